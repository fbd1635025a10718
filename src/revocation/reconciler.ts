import type { AuditLog } from "../audit/audit-log.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { RevocationQueue } from "./revocation-queue.js";
import { WORKER_ACTOR } from "./revoke-credential.js";
import type { TaskCloser } from "./task-closer.js";

export interface ReconcileReport {
  deadlinesClosed: number;
  orphansClosed: number;
  closingRearmed: number;
  stalePendingRevoked: number;
  expired: number;
  failedRetried: number;
  deadlinesRearmed: number;
}

const BATCH = 500;

/**
 * Re-arms whatever the queue lost, from the Redis records (the source of truth): open tasks past their
 * deadline, open tasks whose parent ended, closing tasks with unsettled credentials, half-issued pending
 * credentials, active credentials past expiry, and revoke_failed credentials due for another try.
 */
export function createReconciler(deps: {
  tasks: TaskStore;
  credentials: CredentialStore;
  closer: TaskCloser;
  queue: Pick<RevocationQueue, "enqueueRevocations" | "scheduleDeadline">;
  audit: Pick<AuditLog, "append">;
  clock: Clock;
  logger: Logger;
  pendingGraceMs: number;
  failedRetryIntervalMs: number;
}): () => Promise<ReconcileReport> {
  const { tasks, credentials, closer, clock } = deps;

  async function closeOverdue(): Promise<number> {
    const due = await tasks.openDueBy(clock.now(), BATCH);
    for (const taskId of due) await closer.closeTree(taskId, "deadline", WORKER_ACTOR);
    return due.length;
  }

  /** Re-schedules deadline jobs (deduplicated by job id) and closes children whose parent has ended. */
  async function sweepOpen(): Promise<{ orphans: number; rearmed: number }> {
    const open = await tasks.getMany(await tasks.openTaskIds());
    const parentIds = [...new Set(open.flatMap((task) => (task.parentId ? [task.parentId] : [])))];
    const parents = new Map((await tasks.getMany(parentIds)).map((task) => [task.id, task]));
    let orphans = 0;
    for (const task of open) {
      const parent = task.parentId ? parents.get(task.parentId) : undefined;
      if (task.parentId && (!parent || parent.state !== "open")) {
        await closer.closeTree(task.id, "parent_closed", WORKER_ACTOR);
        orphans++;
      } else {
        await deps.queue.scheduleDeadline(task.id, task.deadline, clock.now());
      }
    }
    return { orphans, rearmed: open.length - orphans };
  }

  async function rearmClosing(): Promise<number> {
    const closing = await tasks.closingTaskIds(BATCH);
    for (const taskId of closing) {
      await closer.revokeCredentialsOf(taskId, "closed", WORKER_ACTOR);
      await closer.completeIfSettled(taskId, WORKER_ACTOR);
    }
    return closing.length;
  }

  async function revokeStalePending(): Promise<number> {
    const stale = await staleCredentials(
      await credentials.pendingOlderThan(clock.now() - deps.pendingGraceMs, BATCH),
    );
    const moved = [];
    for (const credential of stale) {
      const result = await credentials.transition(credential, ["pending"], "revoking", {
        revoke_reason: "half_issued",
      });
      if (result.moved) moved.push(credential);
    }
    await deps.queue.enqueueRevocations(moved.map((c) => ({ id: c.id, taskId: c.taskId })));
    for (const credential of moved) {
      await deps.audit.append({
        type: "credential.revoking",
        actor: WORKER_ACTOR,
        task_id: credential.taskId,
        credential_id: credential.id,
        reason: "half_issued",
      });
    }
    return moved.length;
  }

  async function markExpired(): Promise<number> {
    const due = await staleCredentials(await credentials.activeExpiringBy(clock.now(), BATCH));
    let count = 0;
    for (const credential of due) {
      const result = await credentials.transition(credential, ["active"], "expired");
      if (!result.moved) continue;
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
    const due = await staleCredentials(
      await credentials.failedBefore(clock.now() - deps.failedRetryIntervalMs, BATCH),
    );
    const moved = [];
    for (const credential of due) {
      const result = await credentials.transition(credential, ["revoke_failed"], "revoking", {
        revoke_attempts: "0",
      });
      if (result.moved) moved.push(credential);
    }
    await deps.queue.enqueueRevocations(moved.map((c) => ({ id: c.id, taskId: c.taskId })));
    return moved.length;
  }

  async function staleCredentials(ids: string[]) {
    const taskIds = await credentials.taskOf(ids);
    const refs = ids.flatMap((credentialId, i) => {
      const taskId = taskIds[i];
      return taskId ? [{ taskId, credentialId }] : [];
    });
    return credentials.getMany(refs);
  }

  return async () => {
    const report: ReconcileReport = {
      deadlinesClosed: await closeOverdue(),
      orphansClosed: 0,
      closingRearmed: 0,
      stalePendingRevoked: await revokeStalePending(),
      expired: await markExpired(),
      failedRetried: await retryFailed(),
      deadlinesRearmed: 0,
    };
    const swept = await sweepOpen();
    report.orphansClosed = swept.orphans;
    report.deadlinesRearmed = swept.rearmed;
    report.closingRearmed = await rearmClosing();
    deps.logger.debug({ report }, "reconciled");
    return report;
  };
}
