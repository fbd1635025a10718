import type { CredentialStore } from "../credentials/credential-store.js";
import type { Credential, CredentialState } from "../credentials/credential-types.js";
import type { Logger } from "../shared/logger.js";
import type { TaskStore } from "../tasks/task-store.js";
import { storedRun } from "./emergency-revocation.js";
import type { RevocationQueue } from "./revocation-queue.js";
import type { ProgressBucket, RevocationRecordStore } from "./revocation-record-store.js";
import { type RevokeCredential, WORKER_ACTOR } from "./revoke-credential.js";
import type { CloseCause, CloseSink, TaskCloser } from "./task-closer.js";

/** Matched tasks closed per batch; the cursor is stored after each, so a new run resumes there. */
export const ROOTS_PER_BATCH = 50;
/** Tasks closed at once, and credentials revoked at once, within a batch. */
const CLOSE_CONCURRENCY = 16;
const REVOKE_CONCURRENCY = 64;
/** Pause between two tally walks while credentials are still revoking. */
const TALLY_PAUSE_MS = 250;

const UNSETTLED: ReadonlySet<string> = new Set(["pending", "active", "revoking", "revoke_failed"]);

/** Where a credential in `state` counts in a revocation's progress. */
export function bucketOf(state: CredentialState | null): ProgressBucket {
  switch (state) {
    case null:
      return "gone";
    case "revoked":
    case "expired":
    case "revoke_failed":
    case "resolved":
      return state;
    case "failed":
      return "not_issued";
    default:
      return "revoking";
  }
}

async function pool<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}

export interface EmergencyRunOptions {
  /** Called between steps; true when the worker is shutting down (the run throws so another takes over). */
  stopping: () => boolean;
  /** Waits between tally walks (a timer in production). */
  pause: (ms: number) => Promise<void>;
}

/**
 * The worker side of an emergency revocation, one BullMQ job per revocation. It closes the matched tasks
 * `ROOTS_PER_BATCH` at a time: each close moves the credentials to `revoking` and hands them here instead of
 * queuing one job each; the batch's credentials are recorded in the progress counters and revoked in place
 * (`REVOKE_CONCURRENCY` at once) through the same step a revocation job runs. A credential whose attempt
 * fails is queued as an ordinary revocation job, which retries with backoff. The cursor is stored after
 * every batch; a run that died mid-batch is redone from that batch, re-handling every credential of its
 * tasks that is still `revoking`. Then it walks the credentials still open and moves the counters from
 * their records, until none is revoking.
 */
export function createEmergencyRun(deps: {
  records: RevocationRecordStore;
  tasks: Pick<TaskStore, "childrenOf" | "get">;
  credentials: Pick<CredentialStore, "statesForTask">;
  closer: Pick<TaskCloser, "closeTree" | "revokeCredentialsOf" | "completeIfSettled">;
  revokeCredential: RevokeCredential;
  queue: Pick<RevocationQueue, "enqueueRevocations">;
  stateOf: (refs: { credentialId: string; taskId: string }[]) => Promise<(CredentialState | null)[]>;
  attempts: number;
  logger: Logger;
}) {
  const { records } = deps;

  async function tree(roots: string[]): Promise<string[]> {
    const seen = new Set<string>();
    let frontier = roots;
    while (frontier.length > 0) {
      for (const id of frontier) seen.add(id);
      const children = await deps.tasks.childrenOf(frontier);
      frontier = children.flat().filter((id) => !seen.has(id));
    }
    return [...seen];
  }

  /**
   * Records the batch's unsettled credentials before anything closes them, so one that another path revokes
   * first (a reconciler re-queue, a concurrent close) is still counted, by the tally.
   */
  async function record(revocationId: string, taskIds: string[]): Promise<void> {
    const lists = await Promise.all(taskIds.map((id) => deps.credentials.statesForTask(id)));
    const reached = lists
      .flat()
      .filter((c) => UNSETTLED.has(c.state))
      .map((c) => ({ credentialId: c.id, taskId: c.taskId, bucket: bucketOf(c.state) }));
    await records.recordReached(revocationId, reached);
  }

  async function revokeInPlace(list: Credential[]): Promise<void> {
    const retry: { id: string; taskId: string }[] = [];
    await pool(list, REVOKE_CONCURRENCY, async (credential) => {
      try {
        await deps.revokeCredential(
          { credentialId: credential.id, taskId: credential.taskId },
          { made: 0, max: deps.attempts, stalls: 0 },
          { credential, skipTaskCompletion: true },
        );
      } catch {
        retry.push({ id: credential.id, taskId: credential.taskId });
      }
    });
    await deps.queue.enqueueRevocations(retry);
  }

  async function closeBatch(
    revocationId: string,
    roots: string[],
    cause: CloseCause,
    actor: string,
    redo: boolean,
  ): Promise<void> {
    const taskIds = await tree(roots);
    await record(revocationId, taskIds);
    const revoking: Credential[] = [];
    const sink: CloseSink = (moved) => void revoking.push(...moved.revoking);
    await pool(roots, CLOSE_CONCURRENCY, async (root) => {
      await deps.closer.closeTree(root, "revoked", actor, cause, sink);
    });
    if (redo) {
      // A run died in this batch: a task it had moved to closing may still hold credentials it never reached.
      await pool(taskIds, CLOSE_CONCURRENCY, async (taskId) => {
        const task = await deps.tasks.get(taskId);
        if (task?.state === "closing")
          await deps.closer.revokeCredentialsOf(taskId, task.closeReason ?? "revoked", actor, sink);
      });
    }
    await revokeInPlace(revoking);
    await pool(taskIds, CLOSE_CONCURRENCY, async (taskId) => {
      await deps.closer.completeIfSettled(taskId, WORKER_ACTOR);
    });
  }

  /** One pass over the credentials still open: each moves to the bucket its record's state calls for. */
  async function tallyWalk(revocationId: string): Promise<void> {
    let cursor = "0";
    do {
      const page = await records.openPage(revocationId, cursor);
      cursor = page.next;
      const states = await deps.stateOf(page.entries);
      const moves = page.entries.map((entry, i) => ({
        credentialId: entry.credentialId,
        bucket: bucketOf(states[i] ?? null),
      }));
      await records.tally(revocationId, moves);
    } while (cursor !== "0");
  }

  function checkStopping(opts: EmergencyRunOptions): void {
    if (opts.stopping()) throw new Error("worker stopping; the revocation resumes on another worker");
  }

  return async function run(revocationId: string, opts: EmergencyRunOptions): Promise<void> {
    const raw = await records.status(revocationId);
    if (raw === null) {
      await records.finished(revocationId);
      return;
    }
    const status = storedRun.parse(raw);
    const cause: CloseCause = {
      note: status.reason,
      revocation: { id: revocationId, selector: status.selector, seq: status.started_seq },
    };
    for (;;) {
      checkStopping(opts);
      const { cursor, claimed, phase } = await records.progress(revocationId);
      if (phase === "done") break;
      const roots = await records.rootTasks(revocationId, cursor, ROOTS_PER_BATCH);
      if (roots.length === 0) {
        await records.finishClosing(revocationId);
        break;
      }
      await records.claim(revocationId, cursor);
      await closeBatch(revocationId, roots, cause, status.actor, claimed === cursor);
      await records.advance(revocationId, cursor, cursor + roots.length);
    }
    for (;;) {
      await tallyWalk(revocationId);
      if ((await records.progress(revocationId)).counts.revoking <= 0) break;
      checkStopping(opts);
      await opts.pause(TALLY_PAUSE_MS);
    }
    await records.finished(revocationId);
    deps.logger.info({ revocation_id: revocationId }, "emergency revocation: every matched task closed");
  };
}

export type EmergencyRun = ReturnType<typeof createEmergencyRun>;
