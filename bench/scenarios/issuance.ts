import { startBaseline } from "../baseline.js";
import { BENCH_AUDIENCE, type BenchBroker } from "../broker.js";
import { CREDENTIAL_REQUEST, openTask } from "../client.js";
import { type LoadRequest, type LoadResult, runLoad } from "../load.js";
import {
  diffHistogram,
  type HistogramSnapshot,
  histogramMeanMs,
  histogramQuantileMs,
  scrapeIssuanceHistogram,
} from "../metrics.js";
import { figure } from "../report.js";
import { mapPool } from "../stats.js";
import { progress, type ScenarioResult } from "./types.js";

const SCENARIO = "1 issuance";
const CONNECTIONS = 32;
const AGENTS = 4;
const TASKS_PER_AGENT = 2;
/** Long enough to outlive the run; a task holds as many credentials as it is asked for. */
const TASK_TTL_SECONDS = 3600;
const SINGLE_SECONDS = 3;

export interface IssuanceOptions {
  warmupSeconds: number;
  durationSeconds: number;
}

/** Issuance throughput of the broker against a bare Express + jose endpoint, same load generator. */
export async function runIssuance(broker: BenchBroker, options: IssuanceOptions): Promise<ScenarioResult> {
  const agents = Array.from({ length: AGENTS }, (_, i) => `bench-issuer-${i}`);
  const slots = agents.flatMap((agent) => Array.from({ length: TASKS_PER_AGENT }, () => agent));
  const taskIds = await mapPool(slots, 8, (agent) => openTask(broker, agent, TASK_TTL_SECONDS));
  const body = JSON.stringify(CREDENTIAL_REQUEST);
  const requests: LoadRequest[] = await Promise.all(
    taskIds.map(async (taskId, i) => ({
      method: "POST" as const,
      path: `/v1/tasks/${taskId}/credentials`,
      headers: {
        authorization: `Bearer ${await broker.token(slots[i]!)}`,
        "content-type": "application/json",
      },
      body,
    })),
  );
  progress(`issuance: ${taskIds.length} tasks over ${AGENTS} agents open; ${CONNECTIONS} connections`);

  const baseline = await startBaseline({
    issuer: "http://127.0.0.1:1",
    audience: BENCH_AUDIENCE,
    agent: "ci:bench-issuer-0",
  });
  let base: LoadResult;
  try {
    progress(`issuance: baseline warm-up ${options.warmupSeconds} s + ${options.durationSeconds} s`);
    base = await runLoad({
      title: "baseline",
      url: baseline.url,
      requests,
      connections: CONNECTIONS,
      ...options,
    });
  } finally {
    await baseline.close();
  }
  progress(`issuance: baseline ${base.rps.toFixed(0)} req/s, p99 ${base.latencyMs.p99} ms`);

  let before: HistogramSnapshot | undefined;
  progress(`issuance: broker warm-up ${options.warmupSeconds} s + ${options.durationSeconds} s`);
  const brokerLoad = await runLoad({
    title: "broker",
    url: broker.baseUrl,
    requests,
    connections: CONNECTIONS,
    ...options,
    beforeMeasure: async () => {
      before = await scrapeIssuanceHistogram(broker.baseUrl);
    },
  });
  const after = await scrapeIssuanceHistogram(broker.baseUrl);
  const own = before ? diffHistogram(before, after) : undefined;
  // Service time without queueing: one connection, one request at a time.
  const single = await runLoad({
    title: "broker-1-connection",
    url: broker.baseUrl,
    requests,
    connections: 1,
    warmupSeconds: 0,
    durationSeconds: SINGLE_SECONDS,
  });
  progress(
    `issuance: broker ${brokerLoad.rps.toFixed(0)} req/s, p99 ${brokerLoad.latencyMs.p99} ms, non-2xx ${brokerLoad.non2xx}`,
  );

  const ratio = base.rps > 0 ? brokerLoad.rps / base.rps : Number.NaN;
  const errorNote =
    brokerLoad.non2xx + brokerLoad.errors > 0
      ? `broker answered ${brokerLoad.non2xx} non-2xx and had ${brokerLoad.errors} connection errors: ${JSON.stringify(brokerLoad.statusCodes)}`
      : undefined;
  const figures = [
    figure(SCENARIO, "issuance.baseline_rps", "baseline (Express+jose ES256) req/s", base.rps, "req/s"),
    figure(
      SCENARIO,
      "issuance.broker_rps",
      "broker POST .../credentials req/s",
      brokerLoad.rps,
      "req/s",
      undefined,
      errorNote,
    ),
    figure(SCENARIO, "issuance.ratio", "broker / baseline throughput", ratio, "x", { op: ">=", value: 0.5 }),
    figure(SCENARIO, "issuance.broker_p50_ms", "broker latency p50 (client)", brokerLoad.latencyMs.p50, "ms"),
    figure(
      SCENARIO,
      "issuance.broker_p99_ms",
      "broker latency p99 (client)",
      brokerLoad.latencyMs.p99,
      "ms",
      { op: "<=", value: 20 },
      `closed loop, ${CONNECTIONS} connections: mean latency = ${CONNECTIONS} / throughput (Little's law), ` +
        `so p99 <= 20 ms needs well over ${(CONNECTIONS / 0.02).toFixed(0)} req/s`,
    ),
    figure(
      SCENARIO,
      "issuance.single_p50_ms",
      "broker latency p50, 1 connection",
      single.latencyMs.p50,
      "ms",
    ),
    figure(
      SCENARIO,
      "issuance.single_p99_ms",
      "broker latency p99, 1 connection",
      single.latencyMs.p99,
      "ms",
    ),
    figure(SCENARIO, "issuance.baseline_p99_ms", "baseline latency p99 (client)", base.latencyMs.p99, "ms"),
  ];
  if (own && own.count > 0) {
    figures.push(
      figure(
        SCENARIO,
        "issuance.own_p50_ms",
        "broker histogram p50 (server-side)",
        histogramQuantileMs(own, 0.5),
        "ms",
      ),
      figure(
        SCENARIO,
        "issuance.own_p99_ms",
        "broker histogram p99 (server-side)",
        histogramQuantileMs(own, 0.99),
        "ms",
      ),
    );
  }
  return {
    figures,
    details: {
      connections: CONNECTIONS,
      tasks: taskIds.length,
      agents: AGENTS,
      warmup_seconds: options.warmupSeconds,
      duration_seconds: options.durationSeconds,
      baseline: base,
      broker: brokerLoad,
      broker_one_connection: single,
      broker_histogram: own
        ? {
            count: own.count,
            mean_ms: histogramMeanMs(own),
            p50_ms: histogramQuantileMs(own, 0.5),
            p99_ms: histogramQuantileMs(own, 0.99),
            buckets: Object.fromEntries([...own.buckets].map(([le, n]) => [String(le), n])),
          }
        : null,
    },
  };
}
