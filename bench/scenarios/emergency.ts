import type { BenchBroker } from "../broker.js";
import { issueCredential, openTask, revocationStatus, startRevocation } from "../client.js";
import { figure } from "../report.js";
import { mapPool, since, sleep } from "../stats.js";
import { progress, type ScenarioResult } from "./types.js";

const SCENARIO = "4 emergency";
const OPERATOR = "operator";
const FLEET_AGENTS = 8;
/** Tasks in flight while populating; each issues its credentials concurrently. */
const TASK_CONCURRENCY = 8;
const POLL_MS = 5;
const TIMEOUT_MS = 60_000;

export interface Population {
  tasks: { taskId: string; credentialIds: string[] }[];
  credentials: number;
}

/** Opens `tasks` long-lived tasks over a few agents, each with `perTask` signer credentials, via HTTP. */
export async function populate(broker: BenchBroker, tasks: number, perTask: number): Promise<Population> {
  const started = performance.now();
  const made = await mapPool(
    Array.from({ length: tasks }, (_, i) => `bench-fleet-${i % FLEET_AGENTS}`),
    TASK_CONCURRENCY,
    async (agent) => {
      const taskId = await openTask(broker, agent, 3600);
      const credentialIds = await Promise.all(
        Array.from({ length: perTask }, () => issueCredential(broker, agent, taskId)),
      );
      return { taskId, credentialIds };
    },
  );
  const credentials = made.reduce((n, t) => n + t.credentialIds.length, 0);
  const seconds = since(started) / 1000;
  progress(
    `populate: ${tasks} tasks, ${credentials} credentials in ${seconds.toFixed(1)} s (${((tasks + credentials) / seconds).toFixed(0)} req/s)`,
  );
  return { tasks: made, credentials };
}

export function mergePopulations(a: Population, b: Population): Population {
  return { tasks: [...a.tasks, ...b.tasks], credentials: a.credentials + b.credentials };
}

async function latestRevokedAt(broker: BenchBroker, population: Population): Promise<number> {
  const pipeline = broker.redis.pipeline();
  for (const task of population.tasks)
    for (const id of task.credentialIds)
      pipeline.hget(broker.credentials.credential(task.taskId, id), "revoked_at");
  const values = ((await pipeline.exec()) ?? []).map(([, value]) => Number(value));
  return Math.max(...values.filter((v) => Number.isFinite(v)));
}

/** `POST /v1/admin/revocations {"all": true}` over the population; time to 202 and to every task closed. */
export async function runEmergency(broker: BenchBroker, population: Population): Promise<ScenarioResult> {
  // A dry run first: matching and counting alone (reads every task and credential), no closing.
  const dryStart = performance.now();
  await startRevocation(broker, OPERATOR, true);
  const dryRunMs = since(dryStart);
  progress(`emergency: dry run (match + count) answered in ${dryRunMs.toFixed(0)} ms`);
  const wallStart = Date.now();
  const start = performance.now();
  const accepted = await startRevocation(broker, OPERATOR);
  const acceptedMs = since(start);
  progress(
    `emergency: 202 after ${acceptedMs.toFixed(0)} ms (${accepted.tasks} tasks, ${accepted.credentials} credentials)`,
  );

  // The 202 comes before the worker closes anything: done is the API saying so, then no task left closing and
  // every credential's revoked_at recorded (the truth in the records, checked below).
  let status = await revocationStatus(broker, OPERATOR, accepted.revocation_id);
  while (status.state === "running") {
    if (since(start) > TIMEOUT_MS) throw new Error(`emergency revocation not done after ${TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
    status = await revocationStatus(broker, OPERATOR, accepted.revocation_id);
  }
  let closing = await broker.redis.zcard(broker.tasks.closing);
  while (closing > 0 && since(start) < TIMEOUT_MS) {
    await sleep(POLL_MS);
    closing = await broker.redis.zcard(broker.tasks.closing);
  }
  const observedMs = since(start);
  const completedMs = since(start);
  const recordedMs = (await latestRevokedAt(broker, population)) - wallStart;
  progress(
    `emergency: ${status.state} after ${completedMs.toFixed(0)} ms (${JSON.stringify(status.progress)})`,
  );

  const note =
    `${accepted.credentials} credentials in ${accepted.tasks} tasks; "completed" = GET /v1/admin/revocations/{id} ` +
    `says ${status.state} and no task is left closing (polled every ${POLL_MS} ms)`;
  return {
    figures: [
      figure(SCENARIO, "emergency.dry_run_ms", "dry run (match + count only) -> 202", dryRunMs, "ms"),
      figure(SCENARIO, "emergency.accepted_ms", "POST revocations -> 202", acceptedMs, "ms"),
      figure(
        SCENARIO,
        "emergency.completed_ms",
        "POST -> all revoked (completed)",
        observedMs,
        "ms",
        { op: "<=", value: 5000 },
        note,
      ),
      figure(
        SCENARIO,
        "emergency.revoke_rate",
        "credentials revoked per second, overall",
        (accepted.credentials * 1000) / observedMs,
        "/s",
      ),
      figure(SCENARIO, "emergency.api_completed_ms", "POST -> API reports completed", completedMs, "ms"),
      figure(SCENARIO, "emergency.recorded_ms", "POST -> last revoked_at recorded", recordedMs, "ms"),
      figure(
        SCENARIO,
        "emergency.credentials",
        "credentials revoked",
        status.progress?.revoked ?? Number.NaN,
        "",
        {
          op: ">=",
          value: population.credentials,
        },
      ),
    ],
    details: {
      population: { tasks: population.tasks.length, credentials: population.credentials },
      accepted,
      final_status: status,
      dry_run_ms: dryRunMs,
      accepted_ms: acceptedMs,
      observed_completed_ms: observedMs,
      api_completed_ms: completedMs,
      recorded_last_revoked_ms: recordedMs,
    },
  };
}
