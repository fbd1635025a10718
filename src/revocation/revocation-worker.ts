import { type Job, Worker } from "bullmq";
import type { Logger } from "../shared/logger.js";
import type { RedisClient } from "../shared/redis.js";
import { isConnectionFailure } from "../shared/redis-errors.js";
import { within } from "../shared/within.js";
import type { CloseReason } from "../tasks/task-types.js";
import type { EmergencyRunOptions } from "./emergency-run.js";
import type { ReconcileReport } from "./reconciler.js";
import { bullPrefix, jobPayloadSchemas, QUEUE_NAME } from "./revocation-jobs.js";
import type { RevocationQueue } from "./revocation-queue.js";
import { type RevokeCredential, WORKER_ACTOR } from "./revoke-credential.js";

export interface RevocationWorker {
  /** Runs the reconciler once now (also used by tests). */
  reconcileNow(): Promise<ReconcileReport>;
  close(): Promise<void>;
}

/**
 * The worker role: processes revocation, deadline and reconcile jobs. A watchdog timer re-creates the
 * reconcile scheduler on every interval, so even a wiped queue heals itself from the Redis records.
 */
export function startRevocationWorker(deps: {
  connection: RedisClient;
  keyPrefix: string;
  concurrency: number;
  attempts: number;
  reconcileIntervalMs: number;
  /**
   * Each job's lock: renewed every half of it while the worker lives. The stalled-job check runs every half
   * of it too; a job is moved back to waiting by the second check that finds it without a lock, so a dead
   * worker's job is taken over by a live worker within about 2 × lockMs of the death.
   */
  lockMs: number;
  /** Stalls after which BullMQ itself would fail a job; kept above the processor's own limit so it never does. */
  maxStalledCount: number;
  revokeCredential: RevokeCredential;
  closeTree: (taskId: string, reason: CloseReason, actor: string) => Promise<unknown>;
  /** Runs (or resumes) an emergency revocation; throws when the worker stops, so another worker resumes it. */
  emergencyRun: (revocationId: string, opts: EmergencyRunOptions) => Promise<void>;
  reconcile: () => Promise<ReconcileReport>;
  /** Every provider's periodic upkeep; a throw is logged as a failed job and the next run retries. */
  housekeeping: () => Promise<void>;
  /** Walks the whole audit chain for one verification run. */
  verifyAudit: (verificationId: string) => Promise<void>;
  /** Pushes one SET to one SSF stream; throws to be retried. */
  deliverSignal: (
    job: { streamId: string; claims: Record<string, unknown> },
    attempt: { made: number; max: number },
  ) => Promise<void>;
  /** Delivers an approval notification; throws to be retried. */
  notifyApproval: (approvalId: string) => Promise<void>;
  queue: Pick<RevocationQueue, "ensureReconciler">;
  logger: Logger;
}): RevocationWorker {
  let stopping = false;
  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

  async function process(job: Job<unknown, unknown, string>): Promise<void> {
    switch (job.name) {
      case "revoke-credential": {
        const data = jobPayloadSchemas["revoke-credential"].parse(job.data);
        await deps.revokeCredential(data, {
          made: job.attemptsMade,
          max: job.opts.attempts ?? deps.attempts,
          stalls: job.stalledCounter,
        });
        return;
      }
      case "task-deadline": {
        const data = jobPayloadSchemas["task-deadline"].parse(job.data);
        await deps.closeTree(data.taskId, "deadline", WORKER_ACTOR);
        return;
      }
      case "emergency-revocation": {
        const data = jobPayloadSchemas["emergency-revocation"].parse(job.data);
        await deps.emergencyRun(data.revocationId, { stopping: () => stopping, pause });
        return;
      }
      case "audit-verify": {
        const data = jobPayloadSchemas["audit-verify"].parse(job.data);
        await deps.verifyAudit(data.verificationId);
        return;
      }
      case "approval-webhook": {
        const data = jobPayloadSchemas["approval-webhook"].parse(job.data);
        await deps.notifyApproval(data.approvalId);
        return;
      }
      case "ssf-deliver": {
        const data = jobPayloadSchemas["ssf-deliver"].parse(job.data);
        await deps.deliverSignal(data, { made: job.attemptsMade, max: job.opts.attempts ?? 1 });
        return;
      }
      case "reconcile":
        await deps.reconcile();
        return;
      case "provider-housekeeping":
        await deps.housekeeping();
        return;
      default:
        throw new Error(`unknown job ${job.name}`);
    }
  }

  const worker = new Worker(QUEUE_NAME, process, {
    connection: deps.connection,
    prefix: bullPrefix(deps.keyPrefix),
    concurrency: deps.concurrency,
    lockDuration: deps.lockMs,
    stalledInterval: Math.max(500, Math.round(deps.lockMs / 2)),
    maxStalledCount: deps.maxStalledCount,
  });
  worker.on("failed", (job, err) => {
    deps.logger.warn(
      { job: job?.name, job_id: job?.id, attempt: job?.attemptsMade, error: err.message },
      "job failed",
    );
  });
  // Connection errors are the connection watch's to report (one line per condition); the rest are logged here.
  worker.on("error", (err) => {
    if (!isConnectionFailure(err)) deps.logger.error({ error: err.message }, "worker error");
  });

  const ensure = () =>
    deps.queue.ensureReconciler().catch((err: unknown) => {
      deps.logger.warn(
        { error: err instanceof Error ? err.message : String(err) },
        "cannot arm the reconciler",
      );
    });
  void ensure();
  const watchdog = setInterval(ensure, deps.reconcileIntervalMs);
  watchdog.unref();

  return {
    reconcileNow: deps.reconcile,
    async close() {
      stopping = true;
      clearInterval(watchdog);
      // Let running jobs finish; a job stuck on an unreachable Redis or upstream is abandoned (its record
      // stays `revoking` and the reconciler re-queues it).
      if (!(await within(worker.close(), 10_000))) await within(worker.close(true), 2_000);
    },
  };
}
