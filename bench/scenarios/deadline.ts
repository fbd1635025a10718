import type { BenchBroker } from "../broker.js";
import { ApiError, issueCredential, openTask } from "../client.js";
import { figure } from "../report.js";
import { mapPool, sleep, summarize } from "../stats.js";
import { progress, type ScenarioResult } from "./types.js";

const SCENARIO = "3 deadline";
const AGENT = "bench-deadline";
const MIN_TTL_SECONDS = 2;
const TTL_SPREAD = 5;
const CONCURRENCY = 50;
const POLL_MS = 250;
const GRACE_MS = 15_000;

export interface DeadlineOptions {
  tasks: number;
}

interface Opened {
  taskId: string;
  /** Undefined when the task's deadline passed before its credential could be issued (a loaded machine). */
  credentialId: string | undefined;
}

/**
 * Issues the task's credential; undefined if the task's deadline came first: 409 task_not_open, or a 502
 * provider_error in the deadline's last second (the signer caps `exp` at the deadline and refuses a token
 * with no lifetime left, a race the bench reports apart).
 */
async function issueBeforeDeadline(
  broker: BenchBroker,
  taskId: string,
  deadline: number,
  races: { notOpen: number; providerAtDeadline: number },
): Promise<string | undefined> {
  try {
    return await issueCredential(broker, AGENT, taskId);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 409 && err.body.includes('"task_not_open"')) {
      races.notOpen += 1;
      return undefined;
    }
    if (err.status === 502 && err.body.includes('"provider_error"') && Date.now() >= deadline - 1000) {
      races.providerAtDeadline += 1;
      return undefined;
    }
    throw err;
  }
}

interface Outcome {
  state: string;
  deadline: number;
  closedAt: number;
  closeReason: string;
  credentialState: string;
}

async function readOutcomes(broker: BenchBroker, opened: Opened[]): Promise<Outcome[]> {
  const pipeline = broker.redis.pipeline();
  for (const { taskId, credentialId } of opened) {
    pipeline.hmget(broker.tasks.task(taskId), "state", "deadline", "closed_at", "close_reason");
    if (credentialId === undefined) pipeline.echo("none");
    else pipeline.hget(broker.credentials.credential(taskId, credentialId), "state");
  }
  const replies = ((await pipeline.exec()) ?? []).map(([err, value]) => {
    if (err) throw err;
    return value;
  });
  return opened.map((_, i) => {
    const task = replies[2 * i] as (string | null)[];
    const credentialState = replies[2 * i + 1] as string | null;
    return {
      state: task[0] ?? "missing",
      deadline: Number(task[1]),
      closedAt: Number(task[2]),
      closeReason: task[3] ?? "",
      credentialState: credentialState ?? "missing",
    };
  });
}

/** 1,000 tasks with deadlines spread over a few seconds, one credential each; lateness of their closing. */
export async function runDeadline(broker: BenchBroker, options: DeadlineOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const races = { notOpen: 0, providerAtDeadline: 0 };
  const opened = await mapPool(
    Array.from({ length: options.tasks }, (_, i) => MIN_TTL_SECONDS + (i % TTL_SPREAD)),
    CONCURRENCY,
    async (ttl): Promise<Opened> => {
      const asked = Date.now();
      const taskId = await openTask(broker, AGENT, ttl);
      const deadline = asked + ttl * 1000;
      return { taskId, credentialId: await issueBeforeDeadline(broker, taskId, deadline, races) };
    },
  );
  const createdUntil = Date.now();
  progress(`deadline: ${opened.length} tasks + credentials opened in ${createdUntil - started} ms; waiting`);

  const lastDeadline = Math.max(...(await readOutcomes(broker, opened)).map((o) => o.deadline));
  let outcomes = await readOutcomes(broker, opened);
  while (outcomes.some((o) => o.state !== "closed") && Date.now() < lastDeadline + GRACE_MS) {
    await sleep(POLL_MS);
    outcomes = await readOutcomes(broker, opened);
  }
  const closed = outcomes.filter((o) => o.state === "closed");
  const byDeadline = closed.filter((o) => o.closeReason === "deadline");
  const lateness = summarize(byDeadline.map((o) => o.closedAt - o.deadline));
  // Deadlines that fell while tasks were still being created compete with that load; the rest do not.
  const quiet = summarize(
    byDeadline.filter((o) => o.deadline > createdUntil).map((o) => o.closedAt - o.deadline),
  );
  // The signer caps a token's exp at the task deadline, so at the deadline the credential settles as `expired`.
  const credentialStates: Record<string, number> = {};
  for (const o of outcomes)
    credentialStates[o.credentialState] = (credentialStates[o.credentialState] ?? 0) + 1;
  const unclosed = outcomes.length - closed.length;
  const deadlines = outcomes.map((o) => o.deadline);
  const spreadMs = Math.max(...deadlines) - Math.min(...deadlines);
  progress(
    `deadline: closed ${closed.length}/${outcomes.length}; lateness p99 ${lateness.p99.toFixed(1)} ms`,
  );
  const note =
    `${options.tasks} tasks, ttl ${MIN_TTL_SECONDS}-${MIN_TTL_SECONDS + TTL_SPREAD - 1} s, deadlines spread over ` +
    `${(spreadMs / 1000).toFixed(1)} s; lateness = closed_at - deadline; reconciler every 60 s` +
    `; credential end states ${JSON.stringify(credentialStates)}` +
    (credentialStates.none
      ? ` ("none": the deadline came before the task's credential was issued, the machine being busy: ` +
        `${races.notOpen} x 409 task_not_open, ${races.providerAtDeadline} x 502 provider_error in its last second)`
      : "") +
    (unclosed > 0 ? `; ${unclosed} NOT closed within ${GRACE_MS} ms of the last deadline` : "");
  return {
    figures: [
      figure(
        SCENARIO,
        "deadline.p50_ms",
        "deadline lateness (task closed), p50",
        lateness.p50,
        "ms",
        undefined,
        note,
      ),
      figure(SCENARIO, "deadline.p99_ms", "deadline lateness (task closed), p99", lateness.p99, "ms", {
        op: "<=",
        value: 250,
      }),
      figure(SCENARIO, "deadline.max_ms", "deadline lateness (task closed), max", lateness.max, "ms"),
      figure(
        SCENARIO,
        "deadline.after_load_p99_ms",
        `lateness p99, ${quiet.count} deadlines after creation ended`,
        quiet.p99,
        "ms",
      ),
      figure(SCENARIO, "deadline.unclosed", "tasks not closed after grace", unclosed, "", {
        op: "<=",
        value: 0,
      }),
    ],
    details: {
      tasks: options.tasks,
      closed: closed.length,
      closed_by_deadline: byDeadline.length,
      deadline_spread_ms: spreadMs,
      closed_at_lateness_ms: lateness,
      creation_ms: createdUntil - started,
      after_creation_lateness_ms: quiet,
      credential_states: credentialStates,
      issuance_after_deadline: races,
    },
  };
}
