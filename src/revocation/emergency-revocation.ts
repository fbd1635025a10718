import { z } from "zod";
import type { AuditLog } from "../audit/audit-log.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import type { Credential } from "../credentials/credential-types.js";
import type { Clock } from "../shared/clock.js";
import { toIso } from "../shared/clock.js";
import { newId } from "../shared/ids.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";
import type { RevocationQueue } from "./revocation-queue.js";
import type { RevocationRecordStore } from "./revocation-record-store.js";

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

/** What the worker's run reads back: the stored status plus the seq of its `revocation.started` event. */
export const storedRun = storedStatus.extend({ started_seq: z.number() });

/**
 * Emergency revocation (by task, agent, initiator, profile, provider or everything). The request matches
 * tasks — for profile/provider, the tasks holding a matching live credential — and counts their trees and
 * unsettled credentials from the tasks' `unsettled` counters, records all that, audits
 * `revocation.started`, queues one `emergency-revocation` job and answers. The worker's job
 * (`emergency-run.ts`) closes the tasks in batches with reason `revoked` and keeps the progress counters
 * that `get` reads in O(1) (plus the records of the credentials now in revoke_failed).
 */
export function createEmergencyRevocation(deps: {
  records: RevocationRecordStore;
  tasks: TaskStore;
  credentials: Pick<
    CredentialStore,
    "activeIds" | "pendingOlderThan" | "taskOf" | "getMany" | "statesForTask" | "unsettledCounts"
  >;
  queue: Pick<RevocationQueue, "enqueueEmergency">;
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
      const children = await tasks.childrenOf(frontier);
      frontier = children.flat().filter((id) => !seen.has(id));
    }
    return [...seen];
  }

  /** Unsettled credentials of the tasks, from each task's counter (a task older than the counter is read). */
  async function unsettledCount(taskIds: string[]): Promise<number> {
    const counted = await credentials.unsettledCounts(taskIds);
    const counts = await Promise.all(
      taskIds.map(async (id, i) => {
        const known = counted[i];
        if (known !== null && known !== undefined) return known;
        const states = await credentials.statesForTask(id);
        return states.filter((c) => !["revoked", "expired", "failed", "resolved"].includes(c.state)).length;
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async function start(actor: string, order: RevocationOrder): Promise<RevocationStatus> {
    const matched = await matchTasks(order.selector);
    const taskIds = await withDescendants(matched);
    const status: RevocationStatus = {
      revocation_id: newId("rev"),
      state: order.dryRun ? "completed" : "running",
      dry_run: order.dryRun,
      selector: order.selector,
      reason: order.reason,
      actor,
      created_at: toIso(deps.clock.now()),
      tasks: taskIds.length,
      credentials: await unsettledCount(taskIds),
    };
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
    const roots = order.dryRun ? [] : matched.map((task) => task.id);
    const record = { ...status, started_seq: started.seq };
    await deps.records.save(status.revocation_id, record, roots, order.dryRun);
    if (!order.dryRun) await deps.queue.enqueueEmergency(status.revocation_id);
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

  /** O(1) in the number of credentials: the counters, plus the records of those now in revoke_failed. */
  async function get(revocationId: string): Promise<RevocationStatus | null> {
    const raw = await deps.records.status(revocationId);
    if (raw === null) return null;
    const status: RevocationStatus = storedStatus.parse(raw);
    if (status.dry_run) return status;
    const [stored, failedRefs] = await Promise.all([
      deps.records.progress(revocationId),
      deps.records.failed(revocationId),
    ]);
    const counts = { ...stored.counts };
    // Those still to be recorded by the run count as revoking until it has closed every task.
    if (stored.phase === "closing") counts.revoking += Math.max(0, status.credentials - stored.recorded);
    // The failed ones are read live: one retried since the last tally counts where its record now is.
    const failedNow = await credentials.getMany(failedRefs);
    const failed = [];
    for (const c of failedNow) {
      if (c.state === "revoke_failed") {
        failed.push({ credential_id: c.id, task_id: c.taskId, last_error: c.lastError });
        continue;
      }
      counts.revoke_failed -= 1;
      if (c.state === "revoked") counts.revoked += 1;
      else if (c.state === "failed") counts.not_issued += 1;
      else if (c.state === "expired") counts.expired += 1;
      else if (c.state !== "resolved") counts.revoking += 1;
    }
    counts.revoke_failed = failed.length;
    const progress = {
      revoked: counts.revoked,
      expired: counts.expired,
      /** Issuance was refused upstream: nothing existed to revoke. */
      not_issued: counts.not_issued,
      revoking: Math.max(0, counts.revoking),
      revoke_failed: counts.revoke_failed,
    };
    const running = stored.phase === "closing" || progress.revoking > 0;
    const state = running ? "running" : failed.length > 0 ? "failed" : "completed";
    return { ...status, state, progress, failed };
  }

  return { start, get, list };
}

export type EmergencyRevocation = ReturnType<typeof createEmergencyRevocation>;
