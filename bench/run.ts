/**
 * credbroker benchmark (`npm run bench`): the broker as production runs it (an api-role process beside a
 * worker-role process, bench/broker.ts) on the real Redis under a key prefix of its own, five scenarios, a
 * table on stdout and bench/results.json. Progress goes to stderr. Every key under the prefix is deleted and
 * every child process stopped at the end, also on failure or Ctrl-C.
 */
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import {
  type BenchBroker,
  countKeys,
  newBenchPrefix,
  REDIS_URL,
  startBenchBroker,
  stopBenchBroker,
} from "./broker.js";
import { environment, type Figure, renderTable, type ScenarioError, writeResults } from "./report.js";
import { runCloseRevoke } from "./scenarios/close-revoke.js";
import { runDeadline } from "./scenarios/deadline.js";
import { mergePopulations, type Population, populate, runEmergency } from "./scenarios/emergency.js";
import { runIssuance } from "./scenarios/issuance.js";
import { measureMemory, memoryFigures, sampleRecord } from "./scenarios/memory.js";
import { runRoundTrips } from "./scenarios/round-trips.js";
import { runScaleBench } from "./scenarios/scale.js";
import { runScaling } from "./scenarios/scaling.js";
import { runSignals } from "./scenarios/signals.js";
import { runTokenEndpoint } from "./scenarios/token-endpoint.js";
import { progress, type ScenarioResult } from "./scenarios/types.js";

const RESULTS_FILE = fileURLToPath(new URL("./results.json", import.meta.url));
const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  return raw !== undefined && raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : fallback;
};
const PLAN = {
  warmupSeconds: num("BENCH_WARMUP_SECONDS", 2),
  durationSeconds: num("BENCH_DURATION_SECONDS", 8),
  closeTasks: num("BENCH_CLOSE_TASKS", 50),
  deadlineTasks: num("BENCH_DEADLINE_TASKS", 1000),
  fleetTasks: num("BENCH_FLEET_TASKS", 1000),
  memoryTasks: 100,
  credentialsPerTask: 10,
};

const formatLoad = (load: number[]): string => load.map((v) => v.toFixed(2)).join(" / ");

const prefix = newBenchPrefix();
let stopping: Promise<void> | undefined;
const stop = (): Promise<void> => {
  stopping ??= stopBenchBroker(prefix);
  return stopping;
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress(`${signal}: cleaning up ${prefix}`);
    void stop().finally(() => process.exit(130));
  });
}

const figures: Figure[] = [];
const errors: ScenarioError[] = [];
const details: Record<string, unknown> = { plan: PLAN, prefix };

async function scenario(name: string, run: () => Promise<ScenarioResult>): Promise<boolean> {
  if (stopping) return false;
  const started = performance.now();
  progress(`--- ${name}`);
  try {
    const result = await run();
    figures.push(...result.figures);
    details[name] = result.details;
    progress(`--- ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return true;
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    progress(`--- ${name} FAILED: ${message}`);
    errors.push({ scenario: name, error: err instanceof Error ? err.message : String(err) });
    return false;
  }
}

async function main(): Promise<number> {
  const wallStart = performance.now();
  const loadAtStart = loadavg();
  let redisVersion = "unknown";
  try {
    progress(`starting broker on ${REDIS_URL} with key prefix ${prefix}`);
    const b: BenchBroker = await startBenchBroker(prefix);
    redisVersion = /redis_version:(\S+)/.exec(await b.redis.info("server"))?.[1] ?? "unknown";

    // Scenarios 5 and 4 first, on a fresh prefix: the memory figure sees only its own population.
    let fleet: Population | undefined;
    await scenario("memory", async () => {
      const first = await populate(b, PLAN.memoryTasks, PLAN.credentialsPerTask);
      fleet = first;
      const one = first.tasks[0];
      const sample =
        one?.credentialIds[0] === undefined
          ? undefined
          : await sampleRecord(b.redis, b.credentials.credential(one.taskId, one.credentialIds[0]));
      const breakdown = await measureMemory(b);
      const population = { credentials: first.credentials, tasks: first.tasks.length };
      return memoryFigures(breakdown, population, { withTarget: true, sample });
    });
    await scenario("emergency", async () => {
      const rest = await populate(b, PLAN.fleetTasks - (fleet?.tasks.length ?? 0), PLAN.credentialsPerTask);
      const all = fleet ? mergePopulations(fleet, rest) : rest;
      const population = { credentials: all.credentials, tasks: all.tasks.length };
      const big = memoryFigures(await measureMemory(b), population, { withTarget: false, idSuffix: "_10k" });
      const result = await runEmergency(b, all);
      return {
        figures: [...result.figures, ...big.figures],
        details: { ...result.details, memory_at_full_population: big.details },
      };
    });
    await scenario("issuance", () => runIssuance(b, PLAN));
    await scenario("round_trips", () => runRoundTrips(b));
    await scenario("scaling", () => runScaling(b, PLAN));
    await scenario("token-endpoint", () => runTokenEndpoint(b, PLAN));
    await scenario("close", () => runCloseRevoke(b, { tasks: PLAN.closeTasks }));
    await scenario("deadline", () => runDeadline(b, { tasks: PLAN.deadlineTasks }));
    await scenario("signals", () => runSignals(b, { tasks: PLAN.closeTasks }));
  } catch (err) {
    errors.push({ scenario: "setup", error: err instanceof Error ? err.message : String(err) });
    progress(`setup FAILED: ${String(err)}`);
  } finally {
    progress(`stopping broker and deleting ${prefix}:*`);
    await stop();
  }
  const keysLeft = await countKeys(prefix).catch(() => -1);
  details.cleanup = { prefix, keys_left: keysLeft };
  details.wall_seconds = (performance.now() - wallStart) / 1000;

  const order = ["1", "2", "3", "4", "5", "6"];
  figures.sort((a, c) => order.indexOf(a.scenario[0] ?? "") - order.indexOf(c.scenario[0] ?? ""));
  const env = environment(redisVersion, REDIS_URL, loadAtStart);
  const footer = [
    `${env.date}  node ${env.node}  ${env.cpu_count} CPUs (${env.cpu_model})  redis ${env.redis_version}`,
    `Load generator (autocannon worker threads), api and worker processes, baseline process, Redis and the OIDC sim`,
    `all share these ${availableParallelism()} cores: absolute throughput and tail latency are lower than with a dedicated client.`,
    `Load average at start ${formatLoad(loadAtStart)}, at end ${formatLoad(loadavg())} (1/5/15 min): ` +
      "other processes on the machine add noise.",
    `Wall time ${(details.wall_seconds as number).toFixed(1)} s; keys left under ${prefix}: ${keysLeft}.`,
  ];
  process.stdout.write(`\n${renderTable(figures, errors, footer)}\n`);
  writeResults(RESULTS_FILE, env, figures, errors, details);
  progress(`wrote ${RESULTS_FILE}`);
  return errors.length > 0 ? 1 : 0;
}

// `npm run bench -- --scale`: only the scale scenario, on a Redis server of its own (bench/scenarios/scale.ts).
(process.argv.includes("--scale") ? runScaleBench() : main()).then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(err);
    await stop();
    process.exit(1);
  },
);
