import type { BenchBroker } from "../broker.js";
import { type LoadResult, runLoad } from "../load.js";
import {
  diffHistogram,
  type HistogramSnapshot,
  histogramMeanMs,
  histogramQuantileMs,
  scrapeIssuanceHistogram,
} from "../metrics.js";
import {
  diffProbe,
  measureIdle,
  type ProbeTargets,
  probe,
  redisPerIssuance,
  type WindowDelta,
} from "../probes.js";
import { stopProcess } from "../processes.js";
import { type Figure, figure } from "../report.js";
import {
  CONNECTIONS,
  type IssuanceLoad,
  per,
  prepareIssuance,
  startBaselineProcess,
} from "./issuance-load.js";
import { progress, type ScenarioResult } from "./types.js";

const SCENARIO = "1 issuance";
const SINGLE_SECONDS = 3;
const IDLE_SECONDS = 2;

export interface IssuanceOptions {
  warmupSeconds: number;
  durationSeconds: number;
}

/** Loads a process with the issuance requests; CPU of `pid` over the measured window. */
async function measured(
  title: string,
  url: string,
  load: IssuanceLoad,
  targets: ProbeTargets,
  options: IssuanceOptions,
  beforeMeasure?: () => Promise<void>,
): Promise<{ load: LoadResult; window: WindowDelta }> {
  let before: Awaited<ReturnType<typeof probe>> | undefined;
  const result = await runLoad({
    title,
    url,
    requests: load.requests,
    connections: CONNECTIONS,
    ...options,
    beforeMeasure: async () => {
      await beforeMeasure?.();
      before = await probe(targets);
    },
  });
  const after = await probe(targets);
  if (!before) throw new Error(`${title}: no snapshot before the measured window`);
  return { load: result, window: diffProbe(before, after) };
}

async function runBaseline(broker: BenchBroker, load: IssuanceLoad, options: IssuanceOptions) {
  const baseline = await startBaselineProcess();
  try {
    progress(
      `issuance: baseline (pid ${baseline.pid}) warm-up ${options.warmupSeconds} s + ${options.durationSeconds} s`,
    );
    const targets = { redis: broker.redis, pids: { baseline: baseline.pid } };
    return await measured("baseline", baseline.url, load, targets, options);
  } finally {
    await stopProcess(baseline);
  }
}

/**
 * Issuance throughput of the api process against the bare Express + jose baseline (each in its own process,
 * same load generator), with the api process's CPU and Redis's commands and CPU per issuance.
 */
export async function runIssuance(broker: BenchBroker, options: IssuanceOptions): Promise<ScenarioResult> {
  const load = await prepareIssuance(broker);
  progress(`issuance: ${load.tasks} tasks over ${load.agents} agents open; ${CONNECTIONS} connections`);
  const base = await runBaseline(broker, load, options);
  progress(`issuance: baseline ${base.load.rps.toFixed(0)} req/s, p99 ${base.load.latencyMs.p99} ms`);

  const targets: ProbeTargets = {
    redis: broker.redis,
    pids: { api: broker.api.pid, worker: broker.worker.pid },
  };
  const idle = await measureIdle(targets, IDLE_SECONDS);
  let histBefore: HistogramSnapshot | undefined;
  progress(
    `issuance: api process (pid ${broker.api.pid}) warm-up ${options.warmupSeconds} s + ${options.durationSeconds} s`,
  );
  const api = await measured("broker", broker.baseUrl, load, targets, options, async () => {
    histBefore = await scrapeIssuanceHistogram(broker.baseUrl);
  });
  const own = histBefore
    ? diffHistogram(histBefore, await scrapeIssuanceHistogram(broker.baseUrl))
    : undefined;
  // Service time without queueing: one connection, one request at a time.
  const single = await runLoad({
    title: "broker-1-connection",
    url: broker.baseUrl,
    requests: load.requests,
    connections: 1,
    warmupSeconds: 0,
    durationSeconds: SINGLE_SECONDS,
  });
  progress(
    `issuance: api ${api.load.rps.toFixed(0)} req/s, p99 ${api.load.latencyMs.p99} ms, non-2xx ${api.load.non2xx}`,
  );
  return {
    figures: [
      ...throughputFigures(base.load, api.load, single),
      ...costFigures(base, api, idle),
      ...histogramFigures(own),
    ],
    details: {
      connections: CONNECTIONS,
      tasks: load.tasks,
      agents: load.agents,
      warmup_seconds: options.warmupSeconds,
      duration_seconds: options.durationSeconds,
      baseline: { ...base.load, window: base.window },
      broker: { ...api.load, window: api.window },
      idle_window: idle,
      broker_one_connection: single,
      broker_histogram: own ? histogramDetails(own) : null,
      api_log_lines: broker.api.logLines(),
      api_log_tail: broker.api.tail(),
    },
  };
}

function throughputFigures(base: LoadResult, api: LoadResult, single: LoadResult): Figure[] {
  const errorNote =
    api.non2xx + api.errors > 0
      ? `api answered ${api.non2xx} non-2xx and had ${api.errors} connection errors: ${JSON.stringify(api.statusCodes)}`
      : undefined;
  return [
    figure(SCENARIO, "issuance.baseline_rps", "baseline (Express+jose ES256) req/s", base.rps, "req/s"),
    figure(
      SCENARIO,
      "issuance.broker_rps",
      "api process POST .../credentials req/s",
      api.rps,
      "req/s",
      undefined,
      errorNote,
    ),
    figure(SCENARIO, "issuance.ratio", "api / baseline throughput", per(api.rps, base.rps), "x", {
      op: ">=",
      value: 0.5,
    }),
    figure(
      SCENARIO,
      "issuance.broker_p50_ms",
      `api latency p50 (client, ${CONNECTIONS} conns)`,
      api.latencyMs.p50,
      "ms",
    ),
    figure(
      SCENARIO,
      "issuance.broker_p99_ms",
      `api latency p99 (client, ${CONNECTIONS} conns)`,
      api.latencyMs.p99,
      "ms",
      { op: "<=", value: 25 },
      `closed loop, ${CONNECTIONS} connections: mean latency = ${CONNECTIONS} / throughput (Little's law), ` +
        `so p99 <= 25 ms needs well over ${(CONNECTIONS / 0.025).toFixed(0)} req/s`,
    ),
    figure(SCENARIO, "issuance.single_p50_ms", "api latency p50, 1 connection", single.latencyMs.p50, "ms"),
    figure(SCENARIO, "issuance.single_p99_ms", "api latency p99, 1 connection", single.latencyMs.p99, "ms"),
    figure(SCENARIO, "issuance.baseline_p99_ms", "baseline latency p99 (client)", base.latencyMs.p99, "ms"),
  ];
}

type Measured = { load: LoadResult; window: WindowDelta };

function costFigures(base: Measured, api: Measured, idle: WindowDelta): Figure[] {
  const issued = api.load.ok;
  const redis = redisPerIssuance(api.window, idle, issued);
  const top = Object.entries(api.window.redis.perCommand)
    .slice(0, 8)
    .map(([name, calls]) => `${name} ${(calls / issued).toFixed(2)}`)
    .join(", ");
  return [
    figure(
      SCENARIO,
      "issuance.api_cpu_us",
      "api process CPU per issuance",
      per(api.window.cpuMicros.api ?? Number.NaN, issued),
      "µs",
      { op: "<=", value: 500 },
      `user+system CPU of the api process (/proc/<pid>/stat, ${api.window.seconds.toFixed(1)} s window) / 2xx ` +
        `responses in it; baseline process for comparison: ${per(base.window.cpuMicros.baseline ?? Number.NaN, base.load.ok).toFixed(0)} µs per request`,
    ),
    figure(
      SCENARIO,
      "issuance.baseline_cpu_us",
      "baseline process CPU per request",
      per(base.window.cpuMicros.baseline ?? Number.NaN, base.load.ok),
      "µs",
    ),
    figure(
      SCENARIO,
      "issuance.worker_cpu_us",
      "worker process CPU per issuance",
      per(api.window.cpuMicros.worker ?? Number.NaN, issued),
      "µs",
    ),
    figure(
      SCENARIO,
      "issuance.redis_commands",
      "Redis commands per issuance (server-wide)",
      redis.commands,
      "",
      undefined,
      `INFO commandstats delta over the window (the bench's INFO left out) minus the idle rate of the ` +
        `${idle.seconds.toFixed(1)} s just before (${(idle.redis.commands / idle.seconds).toFixed(0)} commands/s: ` +
        `other clients, the worker's BullMQ polling); counts commands run inside Lua too. Per issuance: ${top}`,
    ),
    figure(SCENARIO, "issuance.redis_cpu_us", "Redis CPU per issuance", redis.cpuMicros, "µs"),
  ];
}

function histogramFigures(own: HistogramSnapshot | undefined): Figure[] {
  if (!own || own.count <= 0) return [];
  return [
    figure(
      SCENARIO,
      "issuance.own_p50_ms",
      "api histogram p50 (server-side)",
      histogramQuantileMs(own, 0.5),
      "ms",
    ),
    figure(
      SCENARIO,
      "issuance.own_p99_ms",
      "api histogram p99 (server-side)",
      histogramQuantileMs(own, 0.99),
      "ms",
    ),
  ];
}

function histogramDetails(own: HistogramSnapshot) {
  return {
    count: own.count,
    mean_ms: histogramMeanMs(own),
    p50_ms: histogramQuantileMs(own, 0.5),
    p99_ms: histogramQuantileMs(own, 0.99),
    buckets: Object.fromEntries([...own.buckets].map(([le, n]) => [String(le), n])),
  };
}
