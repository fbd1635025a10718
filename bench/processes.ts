import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sleep } from "./stats.js";

/**
 * Child processes of the bench (broker roles, the baseline server): spawned with `node` directly (tsx is
 * registered inside the child by bin/credbroker.js or `--import tsx`), so the pid is the process that does the
 * work and its /proc/<pid>/stat is the CPU it spent. Every child is tracked; `killAll()` stops them (SIGTERM,
 * then SIGKILL) and an exit hook SIGKILLs any left if the bench dies first.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = fileURLToPath(new URL("../bin/credbroker.js", import.meta.url));
const STOP_GRACE_MS = 5_000;
const READY_TIMEOUT_MS = 30_000;

export interface BenchProcess {
  name: string;
  pid: number;
  /** HTTP port the process answers on (api: the API; worker: its health listener). */
  port: number;
  url: string;
  /** The last stderr/stdout lines (for error messages when it dies or never gets ready). */
  tail(): string;
  /** Lines it has written to stdout/stderr so far (LOG_LEVEL=warn: a busy process should write none). */
  logLines(): number;
  exited(): boolean;
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

export interface SpawnOptions {
  name: string;
  port: number;
  /** Arguments after `node` (a script and its arguments). */
  args: string[];
  env?: Record<string, string>;
  /** Path polled until it answers 200 (default /readyz). */
  readyPath?: string;
}

function spawnTracked(options: SpawnOptions): { child: ChildProcess; process: BenchProcess } {
  const child = spawn(process.execPath, options.args, {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: "production", LOG_LEVEL: "warn", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const lines: string[] = [];
  let written = 0;
  const keep = (chunk: Buffer) => {
    const more = chunk.toString("utf8").split("\n").filter(Boolean);
    written += more.length;
    lines.push(...more);
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.once("exit", () => children.delete(child));
  if (child.pid === undefined) throw new Error(`${options.name}: could not spawn ${process.execPath}`);
  const url = `http://127.0.0.1:${options.port}`;
  return {
    child,
    process: {
      name: options.name,
      pid: child.pid,
      port: options.port,
      url,
      tail: () => lines.join("\n"),
      logLines: () => written,
      exited: () => child.exitCode !== null || child.signalCode !== null,
    },
  };
}

/** Spawns a child and waits until `readyPath` answers 200; kills it and throws if it dies or times out. */
export async function startProcess(options: SpawnOptions): Promise<BenchProcess> {
  const { child, process: proc } = spawnTracked(options);
  const until = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.exited())
      throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}):\n${proc.tail()}`);
    const ok = await fetch(`${proc.url}${options.readyPath ?? "/readyz"}`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ok) return proc;
    if (performance.now() > until) {
      await stopChild(child);
      throw new Error(`${options.name} not ready after ${READY_TIMEOUT_MS} ms:\n${proc.tail()}`);
    }
    await sleep(50);
  }
}

/** A broker role process: `credbroker serve --config <file> --role <role>`. */
export function brokerArgs(configFile: string, role: "api" | "worker"): string[] {
  return [...profileArgs(role), CLI, "serve", "--config", configFile, "--role", role];
}

/**
 * `BENCH_CPU_PROFILE=<dir>`: the api processes write a V8 CPU profile there when they stop (open it in
 * Chrome DevTools or any .cpuprofile viewer) — where an issuance's CPU goes, in the layout production runs.
 */
function profileArgs(role: "api" | "worker"): string[] {
  const dir = process.env.BENCH_CPU_PROFILE;
  return dir && role === "api" ? ["--cpu-prof", "--cpu-prof-dir", dir] : [];
}

/** A bench-owned TypeScript entry point run through tsx. */
export function scriptArgs(script: string, ...args: string[]): string[] {
  return ["--import", "tsx", fileURLToPath(new URL(script, import.meta.url)), ...args];
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Stops one tracked process by pid (SIGTERM, SIGKILL after a grace period). */
export async function stopProcess(proc: BenchProcess): Promise<void> {
  const child = [...children].find((c) => c.pid === proc.pid);
  if (child) await stopChild(child);
}

/** Stops every child this bench started; never throws. */
export async function killAll(): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child).catch(() => undefined)));
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const raw = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    clockTicks = Number.isFinite(raw) && raw > 0 ? raw : 100;
  }
  return clockTicks;
}

/** CPU (user + system) a process has used so far, in µs, from /proc/<pid>/stat (clock-tick resolution). */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / ticksPerSecond()) * 1_000_000;
}
