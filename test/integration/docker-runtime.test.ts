import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/dev/dev-redis.js";
import { waitFor } from "../support/broker-harness.js";
import { copiesOf, execForm, instructionsOf, REPO_ROOT, readDockerfile } from "../support/dockerfile.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../support/redis-keys.js";

/**
 * No Docker engine runs here, so this replays the image's runtime stage in a temporary directory: the
 * build stage's `npm run build` (into the temp dir), the deps stage's `npm ci --omit=dev` taken verbatim
 * from the Dockerfile, the runtime stage's COPYs, then the image's CMD (`credbroker serve`) against the
 * test Redis, its HEALTHCHECK command, and a SIGTERM. A runtime import left in devDependencies fails here.
 */
const run = promisify(execFile);
const dockerfile = readDockerfile();
const runtime = dockerfile.stages.at(-1)!;
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** The npm major of the `node:20-*-slim` base image. */
const IMAGE_NPM = "npm@10";

/** Every role of one broker shares these, as replicas do. */
const KEK = randomBytes(32).toString("base64");
const HMAC_KEY = randomBytes(32).toString("base64");

let app: string;
let etc: string;
const prefix = uniquePrefix("docker");
const children: ChildProcess[] = [];

/** The `npm ci …` of the deps stage (not its `npm cache clean`, which would empty this machine's cache). */
function depsInstallArgs(): string[] {
  const deps = dockerfile.stages.find((s) => s.name === "deps")!;
  const install = instructionsOf(deps, "RUN")
    .flatMap((r) => r.args.split("&&").map((part) => part.trim()))
    .find((part) => part.startsWith("npm ci"));
  if (!install) throw new Error("the deps stage has no `npm ci`");
  return install.split(/\s+/).slice(1);
}

/** `npm run build` of the build stage, with each `tsc -p <config>` writing under the temp dir instead. */
async function build(into: string): Promise<void> {
  const tsc = path.join(REPO_ROOT, "node_modules/.bin/tsc");
  for (const step of pkg.scripts.build!.split("&&").map((s) => s.trim())) {
    const [command, flag, config] = step.split(/\s+/);
    if (command !== "tsc" || flag !== "-p" || !config) throw new Error(`unexpected build step: ${step}`);
    const options = JSON.parse(readFileSync(path.join(REPO_ROOT, config), "utf8")) as {
      compilerOptions?: { outDir?: string };
    };
    const outDir = path.join(into, options.compilerOptions?.outDir ?? "dist");
    await run(tsc, ["-p", config, "--outDir", outDir], { cwd: REPO_ROOT });
  }
}

/** Every file under `dir` with its size and mtime, to prove the broker wrote nothing there. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((file) => {
      const stat = statSync(path.join(dir, file));
      return `${file}:${stat.size}:${stat.mtimeMs}`;
    })
    .sort();
}

function brokerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: "production",
    CREDBROKER_CONFIG: path.join(etc, "credbroker.yaml"),
    CREDBROKER_HOST: "127.0.0.1",
    CREDBROKER_PORT: "0",
    CREDBROKER_ROLE: "all",
    CREDBROKER_SIGNER_KEK: KEK,
    CREDBROKER_AUDIT_HMAC_KEY: HMAC_KEY,
    LOG_LEVEL: "info",
    HOME: path.join(etc, "no-home"),
    ...extra,
  };
}

/** Starts the image's command (`node bin/credbroker.js serve …`) and resolves once `logMessage` is logged. */
async function startServe(args: string[], env: NodeJS.ProcessEnv, logMessage: string) {
  const child = spawn(process.execPath, ["bin/credbroker.js", ...args], { cwd: app, env });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const started = await waitFor(
    async () =>
      stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { msg?: string; port?: number })
        .find((entry) => entry.msg === logMessage) ??
      (child.exitCode !== null
        ? Promise.reject(new Error(`serve exited ${child.exitCode}: ${stderr}`))
        : null),
    30_000,
    logMessage,
  );
  return { child, started, exited, output: () => ({ stdout, stderr }) };
}

/** Runs the Dockerfile's HEALTHCHECK command as Docker would (inside the container's environment). */
async function healthcheck(env: NodeJS.ProcessEnv): Promise<number> {
  const command = execForm(instructionsOf(runtime, "HEALTHCHECK")[0]!.args)!;
  const [file, ...args] = command;
  const node = file === "node" ? process.execPath : file!;
  return run(node, args, { env, cwd: app, timeout: 10_000 }).then(
    () => 0,
    (err: { code?: number }) => err.code ?? 1,
  );
}

beforeAll(async () => {
  const root = mkdtempSync(path.join(tmpdir(), "credbroker-image-"));
  app = path.join(root, "app");
  etc = path.join(root, "etc");
  mkdirSync(app);
  mkdirSync(path.join(etc, "policies"), { recursive: true });
  for (const { from, source, dest } of copiesOf(runtime)) {
    if (from !== undefined) continue;
    // Docker semantics: a destination ending in "/" is a directory to copy into.
    const target = dest.endsWith("/") ? path.join(app, dest, path.basename(source)) : path.join(app, dest);
    cpSync(path.join(REPO_ROOT, source), target, { recursive: true });
  }
  cpSync(path.join(REPO_ROOT, "package-lock.json"), path.join(app, "package-lock.json"));
  await build(app);
  // The npm the node:20 image ships (10.x), not whatever npm this machine has: npm 11 rejects lockfiles
  // that lack other platforms' optional packages, which npm 10 (the image's) accepts.
  await run("npx", ["--yes", IMAGE_NPM, ...depsInstallArgs()], {
    cwd: app,
    env: { ...process.env, NODE_ENV: "production" },
  });
  writeFileSync(
    path.join(etc, "policies", "default.cedar"),
    readFileSync(path.join(REPO_ROOT, "policies", "default.cedar")),
  );
  writeFileSync(
    path.join(etc, "credbroker.yaml"),
    [
      "server:",
      "  audience: credbroker",
      "  public_url: http://127.0.0.1:8080",
      "redis:",
      `  url: ${TEST_REDIS_URL}`,
      `  key_prefix: ${prefix}`,
      "policy:",
      "  files: [policies/*.cedar]",
      "",
    ].join("\n"),
  );
}, 300_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await deleteByPrefix(TEST_REDIS_URL, prefix);
  if (app) rmSync(path.dirname(app), { recursive: true, force: true });
});

describe("the container image's runtime stage", () => {
  it("every package the built code imports is a production dependency, installed by `npm ci --omit=dev`", () => {
    const files = readdirSync(path.join(app, "dist"), { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".js"),
    );
    const specifiers = new Set<string>();
    for (const file of files) {
      const code = readFileSync(path.join(app, "dist", file), "utf8");
      const patterns = [
        /^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gm,
        /^\s*import\s*"([^"]+)"/gm,
        /\bimport\(\s*"([^"]+)"\s*\)/g,
      ];
      for (const pattern of patterns) for (const match of code.matchAll(pattern)) specifiers.add(match[1]!);
    }
    const packages = [...specifiers]
      .filter((s) => !s.startsWith(".") && !s.startsWith("node:") && !builtinModules.includes(s))
      .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]!));
    expect(packages.length).toBeGreaterThan(5);
    for (const name of new Set(packages)) {
      expect(Object.keys(pkg.dependencies), `${name} is imported by dist/ but not a dependency`).toContain(
        name,
      );
      expect(statSync(path.join(app, "node_modules", name, "package.json")).isFile()).toBe(true);
    }
    expect(readdirSync(path.join(app, "node_modules"))).not.toContain("vitest");
  });

  it("`credbroker --help` runs from the built output", async () => {
    const { stdout } = await run(process.execPath, ["bin/credbroker.js", "--help"], {
      cwd: app,
      env: brokerEnv(),
    });
    expect(stdout).toContain("serve");
  });

  it("`credbroker serve` answers /healthz and /readyz, passes the HEALTHCHECK, writes nothing, and stops cleanly on SIGTERM", {
    timeout: 90_000,
  }, async () => {
    const before = snapshot(app);
    const env = brokerEnv();
    const serve = await startServe(["serve"], env, "credbroker listening");
    const port = serve.started.port;
    expect(port).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 10_000, "/healthz");
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok, 10_000, "/readyz");
    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({
      status: "ready",
      checks: { redis: "ok", queue: "ok", eviction: "ok" },
    });
    expect(await healthcheck({ ...env, CREDBROKER_PORT: String(port) })).toBe(0);

    serve.child.kill("SIGTERM");
    expect(await serve.exited).toBe(0);
    expect(serve.output().stderr).toContain("SIGTERM: shutting down");
    expect(await healthcheck({ ...env, CREDBROKER_PORT: String(port) })).toBe(1);
    expect(snapshot(app)).toEqual(before);
  });

  it("`credbroker serve --role worker` starts without HTTP and stops cleanly on SIGTERM", {
    timeout: 60_000,
  }, async () => {
    const healthPort = await freePort();
    const env = brokerEnv({ CREDBROKER_ROLE: "api", CREDBROKER_WORKER_PORT: String(healthPort) });
    const worker = await startServe(["serve", "--role", "worker"], env, "credbroker worker started");
    expect(worker.started).toMatchObject({ role: "worker", health_port: healthPort });
    const workerEnv = { ...env, CREDBROKER_ROLE: "worker" };
    expect(await healthcheck(workerEnv)).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    expect(metrics).toContain("credbroker_revocations_total");
    expect(await (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).json()).toMatchObject({
      status: "ready",
    });
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(await healthcheck(workerEnv)).toBe(1);
  });
});

describe("the published package's client SDK (`credbroker/client`)", () => {
  it("resolves through package.json exports and imports nothing but relative files and node: builtins", async () => {
    const client = path.join(app, "dist", "client");
    for (const file of readdirSync(client).filter((f) => f.endsWith(".js"))) {
      const code = readFileSync(path.join(client, file), "utf8");
      for (const match of code.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gm)) {
        expect(match[1], `${file} imports ${match[1]}`).toMatch(/^(\.\/|node:)/);
      }
    }
    expect(readdirSync(client)).toContain("index.d.ts");
    const probe = [
      'const m = await import("credbroker/client");',
      'const b = m.createBrokerClient({ url: "http://127.0.0.1:1/", assertion: "x" });',
      "console.log(JSON.stringify({ exports: Object.keys(m).sort(), url: b.url, dispose: typeof Symbol.asyncDispose }));",
    ].join("\n");
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", probe], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({
      exports: [
        "CredbrokerError",
        "PendingApproval",
        "TaskHandle",
        "assertionFromEnv",
        "assertionFromFile",
        "assertionFromFunction",
        "awsCredentialProvider",
        "awsCredentials",
        "createBrokerClient",
        "credentialProcessOutput",
        "isCredbrokerError",
      ],
      url: "http://127.0.0.1:1",
      dispose: "symbol",
    });
  });

  it("runs with no node_modules at all", async () => {
    const alone = mkdtempSync(path.join(tmpdir(), "credbroker-client-alone-"));
    try {
      cpSync(path.join(app, "dist", "client"), path.join(alone, "client"), { recursive: true });
      writeFileSync(path.join(alone, "package.json"), '{"type":"module"}');
      const probe = 'const m = await import("./client/index.js"); console.log(typeof m.createBrokerClient);';
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", probe], { cwd: alone });
      expect(stdout.trim()).toBe("function");
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });
});
