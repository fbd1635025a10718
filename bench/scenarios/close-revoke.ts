import type { BenchBroker } from "../broker.js";
import { closeTask, issueCredential, openTask } from "../client.js";
import { figure } from "../report.js";
import { since, sleep, summarize } from "../stats.js";
import { progress, type ScenarioResult } from "./types.js";

const SCENARIO = "2 close->revoked";
const AGENT = "bench-closer";
const CREDENTIALS_PER_TASK = 10;
const POLL_INTERVAL_MS = 1;
const TIMEOUT_MS = 10_000;

export interface CloseRevokeOptions {
  tasks: number;
}

interface Sample {
  /** Close request sent → the bench saw all credentials `revoked` in Redis. */
  observedMs: number;
  /** Close request sent → the latest `revoked_at` the worker recorded (wall clock). */
  recordedMs: number;
  /** Close request sent → its 202. */
  responseMs: number;
}

/** Polls the credential records (one pipelined round trip of HGETs) until all are revoked. */
async function waitAllRevoked(broker: BenchBroker, keys: string[], deadline: number): Promise<number> {
  for (;;) {
    const pipeline = broker.redis.pipeline();
    for (const key of keys) pipeline.hget(key, "state");
    const states = ((await pipeline.exec()) ?? []).map(([, value]) => value);
    if (states.every((state) => state === "revoked")) return performance.now();
    if (performance.now() > deadline) throw new Error(`credentials not revoked in time: ${states.join(",")}`);
    await sleep(POLL_INTERVAL_MS);
  }
}

async function oneTask(broker: BenchBroker): Promise<Sample> {
  const taskId = await openTask(broker, AGENT, 600);
  const credentialIds = await Promise.all(
    Array.from({ length: CREDENTIALS_PER_TASK }, () => issueCredential(broker, AGENT, taskId)),
  );
  const keys = credentialIds.map((id) => broker.credentials.credential(taskId, id));
  const wallStart = Date.now();
  const start = performance.now();
  let responseMs = Number.NaN;
  const closing = closeTask(broker, AGENT, taskId).then(() => {
    responseMs = since(start);
  });
  const [revokedAt] = await Promise.all([waitAllRevoked(broker, keys, start + TIMEOUT_MS), closing]);
  const pipeline = broker.redis.pipeline();
  for (const key of keys) pipeline.hget(key, "revoked_at");
  const recorded = ((await pipeline.exec()) ?? []).map(([, value]) => Number(value));
  return { observedMs: revokedAt - start, recordedMs: Math.max(...recorded) - wallStart, responseMs };
}

/** N tasks in sequence: open, issue 10 credentials, close, time until all 10 are revoked. */
export async function runCloseRevoke(
  broker: BenchBroker,
  options: CloseRevokeOptions,
): Promise<ScenarioResult> {
  const samples: Sample[] = [];
  for (let i = 0; i < options.tasks; i++) samples.push(await oneTask(broker));
  const observed = summarize(samples.map((s) => s.observedMs));
  const recorded = summarize(samples.map((s) => s.recordedMs));
  const response = summarize(samples.map((s) => s.responseMs));
  progress(
    `close: ${samples.length} tasks, observed p50 ${observed.p50.toFixed(1)} ms p99 ${observed.p99.toFixed(1)} ms`,
  );
  const note = `${options.tasks} tasks x ${CREDENTIALS_PER_TASK} credentials, sequential; Redis polled every ~${POLL_INTERVAL_MS} ms; nearest-rank p99 of ${options.tasks} samples${options.tasks <= 100 ? " is the max" : ""}`;
  return {
    figures: [
      figure(SCENARIO, "close.p50_ms", "close -> all 10 revoked, p50", observed.p50, "ms", undefined, note),
      figure(SCENARIO, "close.p99_ms", "close -> all 10 revoked, p99", observed.p99, "ms", {
        op: "<=",
        value: 100,
      }),
      figure(SCENARIO, "close.recorded_p99_ms", "same, by recorded revoked_at, p99", recorded.p99, "ms"),
      figure(SCENARIO, "close.response_p99_ms", "close request -> 202, p99", response.p99, "ms"),
    ],
    details: {
      tasks: options.tasks,
      credentials_per_task: CREDENTIALS_PER_TASK,
      observed_ms: observed,
      recorded_revoked_at_ms: recorded,
      close_response_ms: response,
    },
  };
}
