import type { AuditLog } from "../audit/audit-log.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import type { Credential, CredentialState } from "../credentials/credential-types.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";
import type { RevocationQueue } from "./revocation-queue.js";
import type { RevocationRecordStore } from "./revocation-record-store.js";
import { WORKER_ACTOR } from "./revoke-credential.js";
import type { TaskCloser } from "./task-closer.js";

export interface ReconcileReport {
  deadlinesClosed: number;
  orphansClosed: number;
  reindexed: number;
  closingRearmed: number;
  stalePendingRevoked: number;
  expired: number;
  failedRetried: number;
  deadlinesRearmed: number;
  revocationsRearmed: number;
}

/** Entries per pass of the steps that act on what is due (overdue, expired, retries, deadlines soon). */
const BATCH = 500;
/**
 * Entries per pass of the repair sweeps, which look at entries that are usually fine: the open index
 * (with one read per distinct parent) and the closing index (three commands a task). Together with the
 * range reads a pass then stays under 1,000 commands whatever the store holds, plus what is due.
 */
const OPEN_SWEEP = 300;
const CLOSING_SWEEP = 100;
/** Unfinished emergency revocations re-queued per pass (there are rarely more than one or two). */
const RUNNING_BATCH = 20;

type IndexName = "pending" | "active" | "failed" | "retryDue";

/**
 * Re-arms whatever the queue lost, from the Redis records (the source of truth): open tasks past their
 * deadline, deadline jobs due soon, open tasks whose parent ended (a batch of the open index per pass), closing tasks with unsettled credentials, half-issued pending
 * credentials, active credentials past expiry, unfinished emergency revocation runs, and revoke_failed credentials due for another try (never
 * permanent failures; each scheduled retry waits twice as long as the one before). Index
 * entries that no longer match their record are repaired or dropped, so stale hints never block it.
 */
export function createReconciler(deps: {
  tasks: TaskStore;
  credentials: CredentialStore;
  closer: TaskCloser;
  queue: Pick<RevocationQueue, "enqueueRevocations" | "scheduleDeadline" | "enqueueEmergency">;
  /** Emergency revocations whose run has not finished (re-queued each pass; the job id deduplicates). */
  revocations: Pick<RevocationRecordStore, "running">;
  audit: Pick<AuditLog, "append">;
  clock: Clock;
  logger: Logger;
  pendingGraceMs: number;
  intervalMs: number;
}): () => Promise<ReconcileReport> {
  const { tasks, credentials, closer, clock } = deps;

  /** Records behind index entries; entries whose record is gone or in another state are dropped. */
  async function matching(index: IndexName, ids: string[], state: CredentialState): Promise<Credential[]> {
    const taskIds = await credentials.taskOf(ids);
    const refs = ids.flatMap((credentialId, i) => {
      const taskId = taskIds[i];
      return taskId ? [{ taskId, credentialId }] : [];
    });
    const records = await credentials.getMany(refs);
    const live = records.filter((c) => c.state === state);
    const liveIds = new Set(live.map((c) => c.id));
    await credentials.dropFromIndex(
      index,
      ids.filter((id) => !liveIds.has(id)),
    );
    return live;
  }

  async function closeOverdue(): Promise<number> {
    const due = await tasks.openDueBy(clock.now(), BATCH);
    for (const taskId of due) await closer.closeTree(taskId, "deadline", WORKER_ACTOR);
    return due.length;
  }

  /**
   * Where the open-index repair stands: each pass examines the next OPEN_SWEEP open tasks, wrapping round,
   * so a pass costs the same at a thousand open tasks as at a million (a round takes open / OPEN_SWEEP passes).
   */
  let sweepOffset = 0;
  /** The same for the closing index (CLOSING_SWEEP a pass, wrapping round, oldest first). */
  let closingOffset = 0;

  /** Re-schedules the deadline jobs due within two intervals: a range read of the deadline-ordered index. */
  async function rearmDeadlines(report: ReconcileReport): Promise<void> {
    const soon = clock.now() + 2 * deps.intervalMs;
    for (const task of await tasks.getMany(await tasks.openDueBy(soon, BATCH))) {
      if (task.state !== "open") continue;
      await deps.queue.scheduleDeadline(task.id, task.deadline, clock.now());
      report.deadlinesRearmed++;
    }
  }

  /** Repairs one batch of the open index and closes orphans in it (children whose parent ended). */
  async function sweepOpen(report: ReconcileReport): Promise<void> {
    let ids = await tasks.openTaskPage(sweepOffset, OPEN_SWEEP);
    if (ids.length === 0 && sweepOffset > 0) {
      sweepOffset = 0;
      ids = await tasks.openTaskPage(0, OPEN_SWEEP);
    }
    sweepOffset = ids.length < OPEN_SWEEP ? 0 : sweepOffset + ids.length;
    const records = await tasks.getMany(ids);
    const found = new Set(records.map((task) => task.id));
    await tasks.dropMissing(ids.filter((id) => !found.has(id)));
    const open: Task[] = [];
    for (const task of records) {
      if (task.state === "open") open.push(task);
      else {
        await tasks.reindex(task);
        report.reindexed++;
      }
    }
    const parents = new Map(
      (await tasks.getMany([...new Set(open.flatMap((t) => t.parentId ?? []))])).map((t) => [t.id, t]),
    );
    // A parent closing for less than an interval is still being closed by whoever began it (its cascade,
    // with that close's cause, reaches the child); only a parent that is gone, closed or closing longer is
    // an orphaning to repair here.
    const settledBefore = clock.now() - deps.intervalMs;
    const orphaned = (parent: Task | undefined) =>
      parent === undefined ||
      parent.state === "closed" ||
      (parent.state === "closing" && (parent.closingAt ?? 0) <= settledBefore);
    for (const task of open) {
      if (task.parentId && orphaned(parents.get(task.parentId))) {
        await closer.closeTree(task.id, "parent_closed", WORKER_ACTOR);
        report.orphansClosed++;
      }
    }
  }

  /**
   * The next CLOSING_SWEEP closing tasks (a cursor that wraps round, so tasks that stay closing, held by
   * revoke_failed credentials, never crowd out the others), among those that began closing at least an
   * interval ago: a younger one is still being closed by whoever began it (its events then name that
   * closer, and a large emergency run is not doubled).
   */
  async function rearmClosing(): Promise<number> {
    let page = await tasks.closingPage(closingOffset, CLOSING_SWEEP);
    if (page.length === 0 && closingOffset > 0) {
      closingOffset = 0;
      page = await tasks.closingPage(0, CLOSING_SWEEP);
    }
    closingOffset = page.length < CLOSING_SWEEP ? 0 : closingOffset + page.length;
    const settledBefore = clock.now() - deps.intervalMs;
    const ids = page.filter((entry) => entry.since <= settledBefore).map((entry) => entry.id);
    const records = await tasks.getMany(ids);
    const found = new Set(records.map((task) => task.id));
    await tasks.dropMissing(ids.filter((id) => !found.has(id)));
    // A task whose counts show nothing live or revoking (only revoke_failed ones keep it closing) has
    // nothing to re-arm: its credentials are not read (tasks without the counts are, as before).
    const counts = await credentials.countsFor(records.map((task) => task.id));
    for (const [i, task] of records.entries()) {
      if (task.state !== "closing") {
        await tasks.reindex(task);
        continue;
      }
      const c = counts[i];
      if (!c || c.live > 0 || c.revoking > 0)
        await closer.revokeCredentialsOf(task.id, task.closeReason ?? "closed", WORKER_ACTOR);
      await closer.completeIfSettled(task.id, WORKER_ACTOR);
    }
    return records.length;
  }

  async function moveAndQueue(
    list: Credential[],
    from: CredentialState,
    fields: (credential: Credential) => Record<string, string>,
    event: "credential.revoking" | "credential.retry",
    reason: string | null,
  ) {
    const moved: Credential[] = [];
    for (const credential of list) {
      if ((await credentials.transition(credential, [from], "revoking", fields(credential))).moved)
        moved.push(credential);
    }
    for (const credential of moved) {
      await deps.audit.append({
        type: event,
        actor: WORKER_ACTOR,
        task_id: credential.taskId,
        credential_id: credential.id,
        reason,
      });
    }
    await deps.queue.enqueueRevocations(moved.map((c) => ({ id: c.id, taskId: c.taskId })));
    return moved.length;
  }

  async function revokeStalePending(): Promise<number> {
    const ids = await credentials.pendingOlderThan(clock.now() - deps.pendingGraceMs, BATCH);
    const stale = await matching("pending", ids, "pending");
    return moveAndQueue(
      stale,
      "pending",
      () => ({ revoke_reason: "half_issued" }),
      "credential.revoking",
      "half_issued",
    );
  }

  async function markExpired(): Promise<number> {
    const due = await matching("active", await credentials.activeExpiringBy(clock.now(), BATCH), "active");
    let count = 0;
    for (const credential of due) {
      if (!(await credentials.transition(credential, ["active"], "expired")).moved) continue;
      count++;
      await deps.audit.append({
        type: "credential.expired",
        actor: WORKER_ACTOR,
        task_id: credential.taskId,
        credential_id: credential.id,
      });
    }
    return count;
  }

  async function retryFailed(): Promise<number> {
    const ids = await credentials.retryDueBy(clock.now(), BATCH);
    const due = await matching("retryDue", ids, "revoke_failed");
    return moveAndQueue(
      due,
      "revoke_failed",
      (credential) => ({ revoke_attempts: "0", failed_retries: String(credential.failedRetries + 1) }),
      "credential.retry",
      "scheduled retry",
    );
  }

  /** Emergency revocations not finished: their run is queued again (a no-op while it is queued or running). */
  async function rearmRevocations(): Promise<number> {
    const running = await deps.revocations.running(RUNNING_BATCH);
    for (const id of running) await deps.queue.enqueueEmergency(id);
    return running.length;
  }

  return async () => {
    const report: ReconcileReport = {
      deadlinesClosed: await closeOverdue(),
      orphansClosed: 0,
      reindexed: 0,
      closingRearmed: 0,
      stalePendingRevoked: await revokeStalePending(),
      expired: await markExpired(),
      failedRetried: await retryFailed(),
      deadlinesRearmed: 0,
      revocationsRearmed: await rearmRevocations(),
    };
    await rearmDeadlines(report);
    await sweepOpen(report);
    report.closingRearmed = await rearmClosing();
    deps.logger.debug({ report }, "reconciled");
    return report;
  };
}
