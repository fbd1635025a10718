import type { BenchBroker } from "../broker.js";
import { type LoadResult, runLoadSplit } from "../load.js";
import { diffProbe, type ProbeTargets, probe, type WindowDelta } from "../probes.js";
import { figure } from "../report.js";
import { CONNECTIONS, type IssuanceLoad, per, prepareIssuance } from "./issuance-load.js";
import { progress, type ScenarioResult } from "./types.js";

const SCENARIO = "1 scaling";

export interface ScalingOptions {
  warmupSeconds: number;
  durationSeconds: number;
}

interface Run {
  loads: LoadResult[];
  window: WindowDelta;
  rps: number;
  ok: number;
}

/** The load split in two halves (two autocannons), each half against one of `urls`. */
async function split(
  title: string,
  urls: [string, string],
  load: IssuanceLoad,
  targets: ProbeTargets,
  options: ScalingOptions,
): Promise<Run> {
  let before: Awaited<ReturnType<typeof probe>> | undefined;
  const loads = await runLoadSplit({
    title,
    targets: urls.map((url) => ({ url, connections: CONNECTIONS / 2 })),
    requests: load.requests,
    ...options,
    beforeMeasure: async () => {
      before = await probe(targets);
    },
  });
  const after = await probe(targets);
  if (!before) throw new Error(`${title}: no snapshot before the measured window`);
  const ok = loads.reduce((n, l) => n + l.ok, 0);
  return { loads, window: diffProbe(before, after), ok, rps: loads.reduce((n, l) => n + l.rps, 0) };
}

/**
 * 1 vs 2 api processes on one Redis, the same load generator shape in both runs (two autocannons of
 * 16 connections): both halves against api-1, then one half against each of api-1 and api-2.
 */
export async function runScaling(broker: BenchBroker, options: ScalingOptions): Promise<ScenarioResult> {
  const load = await prepareIssuance(broker);
  const second = await broker.startApi("api-2");
  try {
    const targets: ProbeTargets = {
      redis: broker.redis,
      pids: { api1: broker.api.pid, api2: second.pid, worker: broker.worker.pid },
    };
    progress(`scaling: 1 api process, 2 x ${CONNECTIONS / 2} connections`);
    const one = await split("one-process", [broker.baseUrl, broker.baseUrl], load, targets, options);
    progress(
      `scaling: 2 api processes (pids ${broker.api.pid}, ${second.pid}), ${CONNECTIONS / 2} connections each`,
    );
    const two = await split("two-processes", [broker.baseUrl, second.url], load, targets, options);
    progress(`scaling: ${one.rps.toFixed(0)} -> ${two.rps.toFixed(0)} req/s`);
    return summarise(one, two);
  } finally {
    await broker.stopApi(second);
  }
}

const cores = (micros: number | undefined, seconds: number) => (micros ?? Number.NaN) / 1e6 / seconds;

function summarise(one: Run, two: Run): ScenarioResult {
  const ratio = per(two.rps, one.rps);
  const busy = (run: Run) =>
    `api ${cores(run.window.cpuMicros.api1, run.window.seconds).toFixed(2)}` +
    (run === two ? ` + ${cores(run.window.cpuMicros.api2, run.window.seconds).toFixed(2)}` : "") +
    `, worker ${cores(run.window.cpuMicros.worker, run.window.seconds).toFixed(2)}, ` +
    `Redis ${cores(run.window.redis.cpuMicros, run.window.seconds).toFixed(2)} cores`;
  const note =
    `same Redis, same total load (${CONNECTIONS} connections as 2 autocannons x ${CONNECTIONS / 2}); CPU busy ` +
    `(1 process) ${busy(one)}; (2 processes) ${busy(two)}; load generator and Redis share the same cores`;
  const p99 = Math.max(...two.loads.map((l) => l.latencyMs.p99));
  return {
    figures: [
      figure(SCENARIO, "scaling.one_rps", "1 api process, issuance req/s", one.rps, "req/s"),
      figure(SCENARIO, "scaling.two_rps", "2 api processes, issuance req/s (total)", two.rps, "req/s"),
      figure(
        SCENARIO,
        "scaling.ratio",
        "2 processes / 1 process",
        ratio,
        "x",
        { op: ">=", value: 1.7 },
        note,
      ),
      figure(SCENARIO, "scaling.two_p99_ms", "2 api processes, worse p99 of the two", p99, "ms"),
    ],
    details: {
      one_process: { rps: one.rps, ok: one.ok, loads: one.loads, window: one.window },
      two_processes: { rps: two.rps, ok: two.ok, loads: two.loads, window: two.window },
    },
  };
}
