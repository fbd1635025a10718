import { z } from "zod";
import type { AuditLog } from "../audit/audit-log.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import { type Credential, SETTLED_STATES } from "../credentials/credential-types.js";
import type { Clock } from "../shared/clock.js";
import { toIso } from "../shared/clock.js";
import { newId } from "../shared/ids.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";
import type { RevocationRecordStore } from "./revocation-record-store.js";
import type { CloseCause, TaskCloser } from "./task-closer.js";

/** Which credentials an emergency revocation reaches: exactly one key. */
export type Selector = z.infer<typeof selectorSchema>;

export interface RevocationOrder {
  selector: Selector;
  reason: string;
  dryRun: boolean;
}

export interface RevocationStatus {
  revocation_id: string;
  state: "running" | "completed" | "failed";
  dry_run: boolean;
  selector: Selector;
  reason: string;
  actor: string;
  created_at: string;
  tasks: number;
  credentials: number;
  progress?: {
    revoked: number;
    expired: number;
    not_issued: number;
    revoking: number;
    revoke_failed: number;
  };
  failed?: { credential_id: string; task_id: string; last_error: string | null }[];
}

const CLOSE_CONCURRENCY = 32;

export const selectorSchema = z.union([
  z.object({ task_id: z.string().min(1) }).strict(),
  z.object({ agent: z.string().min(1) }).strict(),
  z.object({ initiator: z.string().min(1) }).strict(),
  z.object({ profile: z.string().min(1) }).strict(),
  z.object({ provider: z.string().min(1) }).strict(),
  z.object({ all: z.literal(true) }).strict(),
]);

const storedStatus = z.object({
  revocation_id: z.string(),
  state: z.enum(["running", "completed", "failed"]),
  dry_run: z.boolean(),
  selector: selectorSchema,
  reason: z.string(),
  actor: z.string(),
  created_at: z.string(),
  tasks: z.number(),
  credentials: z.number(),
});

/**
 * Emergency revocation (by task, agent, initiator, profile, provider or everything). Matching tasks — for
 * profile/provider, the tasks holding a matching live credential — are closed with reason `revoked`,
 * which revokes every credential of their trees. The 202 answer comes once all of them are durably
 * `closing` with revocation jobs queued; progress is read back from the credential records.
 */
export function createEmergencyRevocation(deps: {
  records: RevocationRecordStore;
  tasks: TaskStore;
  credentials: CredentialStore;
  closer: TaskCloser;
  audit: Pick<AuditLog, "append">;
  clock: Clock;
}) {
  const { tasks, credentials } = deps;

  async function liveCredentials(): Promise<Credential[]> {
    const ids = [
      ...(await credentials.activeIds()),
      ...(await credentials.pendingOlderThan(Number.POSITIVE_INFINITY, 1_000_000)),
    ];
    const taskIds = await credentials.taskOf(ids);
    return credentials.getMany(
      ids.flatMap((credentialId, i) => (taskIds[i] ? [{ taskId: taskIds[i], credentialId }] : [])),
    );
  }

  async function matchTasks(selector: Selector): Promise<Task[]> {
    if ("task_id" in selector) {
      const task = await tasks.get(selector.task_id);
      return task && task.state !== "closed" ? [task] : [];
    }
    if ("profile" in selector || "provider" in selector) {
      const live = await liveCredentials();
      const matching = live.filter((c) =>
        "profile" in selector ? c.profile === selector.profile : c.provider === selector.provider,
      );
      return tasks.getMany([...new Set(matching.map((c) => c.taskId))]);
    }
    const open = await tasks.getMany(await tasks.openTaskIds());
    if ("agent" in selector) return open.filter((task) => task.agent === selector.agent);
    if ("initiator" in selector) return open.filter((task) => task.initiator.subject === selector.initiator);
    return open;
  }

  /** The matched tasks and all their descendants. */
  async function withDescendants(roots: Task[]): Promise<string[]> {
    const seen = new Set<string>();
    let frontier = roots.map((task) => task.id);
    while (frontier.length > 0) {
      for (const id of frontier) seen.add(id);
      const children = await Promise.all(frontier.map((id) => tasks.children(id)));
      frontier = children.flat().filter((id) => !seen.has(id));
    }
    return [...seen];
  }

  async function unsettledCredentials(taskIds: string[]) {
    const lists = await Promise.all(taskIds.map((id) => credentials.statesForTask(id)));
    return lists.flat().filter((c) => !SETTLED_STATES.has(c.state));
  }

  /** Closes the tasks with CLOSE_CONCURRENCY closes in flight at any time (no waiting on a slow batch). */
  async function closeAll(taskIds: string[], actor: string, cause: CloseCause): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < taskIds.length) {
        const id = taskIds[next++];
        if (id) await deps.closer.closeTree(id, "revoked", actor, cause);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CLOSE_CONCURRENCY, taskIds.length) }, worker));
  }

  async function start(actor: string, order: RevocationOrder): Promise<RevocationStatus> {
    const matched = await matchTasks(order.selector);
    const taskIds = await withDescendants(matched);
    const affected = await unsettledCredentials(taskIds);
    const status: RevocationStatus = {
      revocation_id: newId("rev"),
      state: order.dryRun ? "completed" : "running",
      dry_run: order.dryRun,
      selector: order.selector,
      reason: order.reason,
      actor,
      created_at: toIso(deps.clock.now()),
      tasks: taskIds.length,
      credentials: affected.length,
    };
    await deps.records.save(status.revocation_id, status, affected);
    const started = await deps.audit.append({
      type: "revocation.started",
      actor,
      reason: order.reason,
      details: {
        revocation_id: status.revocation_id,
        selector: order.selector,
        dry_run: order.dryRun,
        tasks: status.tasks,
        credentials: status.credentials,
      },
    });
    if (!order.dryRun) {
      const revocation = { id: status.revocation_id, selector: order.selector, seq: started.seq };
      await closeAll(
        matched.map((task) => task.id),
        actor,
        { note: order.reason, revocation },
      );
    }
    return status;
  }

  /** Recorded revocations, newest first (as recorded at their start: no progress is computed). */
  async function list(limit: number, offset: number) {
    const page = await deps.records.page(limit, offset);
    return {
      revocations: page.statuses.map((raw) => storedStatus.parse(raw)),
      nextCursor: page.scanned === limit ? String(offset + page.scanned) : null,
    };
  }

  async function get(revocationId: string): Promise<RevocationStatus | null> {
    const raw = await deps.records.status(revocationId);
    if (raw === null) return null;
    const status: RevocationStatus = storedStatus.parse(raw);
    if (status.dry_run) return status;
    const refs = await deps.records.reached(revocationId);
    const list = await credentials.getMany(refs);
    const count = (state: Credential["state"]) => list.filter((c) => c.state === state).length;
    const progress = {
      revoked: count("revoked"),
      expired: count("expired"),
      /** Issuance was refused upstream: nothing existed to revoke. */
      not_issued: count("failed"),
      revoking: list.length - count("revoked") - count("failed") - count("expired") - count("revoke_failed"),
      revoke_failed: count("revoke_failed"),
    };
    const failed = list
      .filter((c) => c.state === "revoke_failed")
      .map((c) => ({ credential_id: c.id, task_id: c.taskId, last_error: c.lastError }));
    const state = progress.revoking > 0 ? "running" : failed.length > 0 ? "failed" : "completed";
    return { ...status, state, progress, failed };
  }

  return { start, get, list };
}

export type EmergencyRevocation = ReturnType<typeof createEmergencyRevocation>;
