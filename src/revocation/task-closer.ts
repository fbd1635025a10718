import type { AuditLog } from "../audit/audit-log.js";
import type { AuditDetailsByType, AuditEventInput } from "../audit/audit-types.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import { type Credential, SETTLED_STATES } from "../credentials/credential-types.js";
import type { Clock } from "../shared/clock.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { CloseReason, Task } from "../tasks/task-types.js";
import type { RevocationQueue } from "./revocation-queue.js";

/** Why a task is being closed, beyond its reason: recorded on its `task.closing` event. */
export interface CloseCause {
  /** The closer's own words: the close request's `reason`, or the emergency revocation's reason. */
  note?: string;
  /** The emergency revocation closing it: its id, selector and `revocation.started` seq. */
  revocation?: { id: string; selector: Record<string, string | boolean>; seq: number };
}

/** What a close moved, handed to its caller instead of queuing jobs (an emergency run revokes them itself). */
export type CloseSink = (moved: { revoking: Credential[] }) => void;

export interface TaskCloser {
  /**
   * Closes a task and its whole subtree: open → closing, every live credential → revoking (queued), and
   * → closed once they are all settled. Idempotent. Returns null for an unknown task. An emergency
   * revocation's cause is recorded on the descendants too; a plain close's note only on the task.
   */
  closeTree(
    taskId: string,
    reason: CloseReason,
    actor: string,
    cause?: CloseCause,
    sink?: CloseSink,
  ): Promise<Task | null>;
  /**
   * Queues revocation of a closing task's unsettled credentials (or hands them to `sink`); expired ones are
   * marked expired.
   */
  revokeCredentialsOf(taskId: string, revokeReason: string, actor: string, sink?: CloseSink): Promise<number>;
  /** Marks a closing task closed if every credential has settled. */
  completeIfSettled(taskId: string, actor: string): Promise<boolean>;
}

function closingDetails(cause: CloseCause): AuditDetailsByType["task.closing"] {
  const { note, revocation } = cause;
  return {
    ...(note ? { note } : {}),
    ...(revocation
      ? { revocation_id: revocation.id, selector: revocation.selector, revocation_seq: revocation.seq }
      : {}),
  };
}

export function createTaskCloser(deps: {
  tasks: Pick<TaskStore, "beginClose" | "children" | "get" | "completeClose">;
  credentials: Pick<CredentialStore, "listForTask" | "transition" | "unsettledCount">;
  queue: Pick<RevocationQueue, "enqueueRevocations" | "cancelDeadline">;
  audit: Pick<AuditLog, "append">;
  clock: Clock;
  /** Runs once when a task starts closing (approvals are cancelled here). */
  onClosing?: (taskId: string, actor: string) => Promise<void>;
  /** Told once a closing task's credentials moved (the SSF streams are told here); must not throw. */
  onRevoking?: (
    task: { id: string; reason: string },
    all: Credential[],
    moved: Credential[],
  ) => Promise<void>;
}): TaskCloser {
  const { tasks, credentials, audit, clock } = deps;

  async function appendAll(events: AuditEventInput[]): Promise<void> {
    await Promise.all(events.map((event) => audit.append(event)));
  }

  async function completeIfSettled(taskId: string, actor: string): Promise<boolean> {
    const unsettled = await credentials.unsettledCount(taskId);
    if (unsettled === null) {
      const list = await credentials.listForTask(taskId);
      if (!list.every((credential) => SETTLED_STATES.has(credential.state))) return false;
    } else if (unsettled > 0) return false;
    const done = await tasks.completeClose(taskId, clock.now());
    if (done) await audit.append({ type: "task.closed", actor, task_id: taskId });
    return done;
  }

  /** "revoking" when this call moved it, "rearm" when it was already revoking (re-queue, no new event). */
  async function settle(
    credential: Credential,
    revokeReason: string,
    now: number,
  ): Promise<"expired" | "revoking" | "rearm" | null> {
    if (credential.state === "active" && credential.expiresAt !== null && credential.expiresAt <= now) {
      const result = await credentials.transition(credential, ["active"], "expired");
      if (result.moved) return "expired";
    }
    const result = await credentials.transition(credential, ["pending", "active"], "revoking", {
      revoke_reason: revokeReason,
    });
    if (result.moved) return "revoking";
    return result.current === "revoking" ? "rearm" : null;
  }

  async function revokeCredentialsOf(
    taskId: string,
    revokeReason: string,
    actor: string,
    sink?: CloseSink,
  ): Promise<number> {
    return (await revokeAll(taskId, revokeReason, actor, sink)).queued;
  }

  async function revokeAll(
    taskId: string,
    revokeReason: string,
    actor: string,
    sink?: CloseSink,
  ): Promise<{ list: Credential[]; moved: Credential[]; queued: number }> {
    const now = clock.now();
    const list = (await credentials.listForTask(taskId)).filter((c) => c.state !== "revoke_failed");
    const outcomes = await Promise.all(list.map((credential) => settle(credential, revokeReason, now)));
    const revoking = list.filter((_, i) => outcomes[i] === "revoking" || outcomes[i] === "rearm");
    const events: AuditEventInput[] = list.flatMap((credential, i): AuditEventInput[] => {
      const outcome = outcomes[i];
      if (!outcome || outcome === "rearm") return [];
      const type = outcome === "expired" ? "credential.expired" : "credential.revoking";
      return [{ type, actor, task_id: taskId, credential_id: credential.id, reason: revokeReason }];
    });
    // Recorded before queuing, so a fast worker's `credential.revoked` never precedes `credential.revoking`.
    await appendAll(events);
    if (sink) {
      // As the records now are: the moved ones carry this close's reason; re-armed ones kept their own.
      sink({
        revoking: list.flatMap((c, i): Credential[] => {
          if (outcomes[i] === "revoking") return [{ ...c, state: "revoking", revokeReason }];
          return outcomes[i] === "rearm" ? [{ ...c, state: "revoking" }] : [];
        }),
      });
    } else await deps.queue.enqueueRevocations(revoking.map((c) => ({ id: c.id, taskId })));
    return { list, moved: list.filter((_, i) => outcomes[i] === "revoking"), queued: revoking.length };
  }

  async function closeTree(
    taskId: string,
    reason: CloseReason,
    actor: string,
    cause: CloseCause = {},
    sink?: CloseSink,
  ): Promise<Task | null> {
    const before = await tasks.beginClose(taskId, reason, clock.now());
    if (before === null) return null;
    const children = await tasks.children(taskId);
    if (before === "open") {
      await audit.append({
        type: "task.closing",
        actor,
        task_id: taskId,
        reason,
        details: closingDetails(cause),
      });
      await deps.onClosing?.(taskId, actor);
      const { list, moved } = await revokeAll(taskId, reason, actor, sink);
      await deps.onRevoking?.({ id: taskId, reason }, list, moved);
      if (reason !== "deadline") await deps.queue.cancelDeadline(taskId).catch(() => undefined);
    }
    const inherited = cause.revocation ? cause : {};
    await Promise.all(children.map((child) => closeTree(child, "parent_closed", actor, inherited, sink)));
    if (before === "open") await completeIfSettled(taskId, actor);
    return tasks.get(taskId);
  }

  return { closeTree, revokeCredentialsOf, completeIfSettled };
}
