import { Queue } from "bullmq";
import type { RedisClient } from "../shared/redis.js";
import {
  bullPrefix,
  deadlineJobId,
  emergencyJobId,
  type JobName,
  type JobPayload,
  QUEUE_NAME,
} from "./revocation-jobs.js";

const EMERGENCY_ATTEMPTS = 50;
const EMERGENCY_RETRY_MS = 1_000;

export interface RevocationQueueOptions {
  attempts: number;
  backoffMs: number;
  reconcileIntervalMs: number;
  /** Push attempts and first backoff of SET deliveries (`signals`). */
  signalAttempts: number;
  signalBackoffMs: number;
}

/** One SET for one stream; `claims.jti` (a `set_` id) is the job id, so a SET is queued once. */
export interface SignalJob {
  streamId: string;
  claims: Record<string, unknown> & { jti: string };
}

export interface RevocationQueue {
  /** Idempotent: the job id is the credential id, so a credential is never queued twice at once. */
  enqueueRevocations(credentials: { id: string; taskId: string }[]): Promise<void>;
  /** A delayed job that closes the task at its deadline. */
  scheduleDeadline(taskId: string, deadline: number, now: number): Promise<void>;
  /** Queues the worker's run of an emergency revocation (idempotent per revocation while it is queued or running). */
  enqueueEmergency(revocationId: string): Promise<void>;
  /** Queues a full walk of the audit chain (job id = verification id). */
  enqueueAuditVerification(verificationId: string): Promise<void>;
  /** Queues an approval notification for the webhook (idempotent per approval). */
  enqueueApprovalWebhook(approvalId: string): Promise<void>;
  /** Queues the push of each SET to its stream (retried with exponential backoff). */
  enqueueSignals(jobs: SignalJob[]): Promise<void>;
  /** Drops a task's deadline job once the task closed some other way (a missing job is fine). */
  cancelDeadline(taskId: string): Promise<void>;
  /** (Re)creates the repeatable reconcile and provider-housekeeping jobs; safe to call often. */
  ensureReconciler(): Promise<void>;
  depth(): Promise<Record<string, number>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createRevocationQueue(deps: {
  connection: RedisClient;
  keyPrefix: string;
  options: RevocationQueueOptions;
}): RevocationQueue {
  const queue = new Queue<JobPayload<JobName>, unknown, JobName>(QUEUE_NAME, {
    connection: deps.connection,
    prefix: bullPrefix(deps.keyPrefix),
  });
  // The queue re-emits its connection's errors; the connection watch reports them (one line per condition).
  queue.on("error", () => undefined);
  const { attempts, backoffMs, reconcileIntervalMs } = deps.options;

  return {
    async enqueueRevocations(credentials) {
      if (credentials.length === 0) return;
      await queue.addBulk(
        credentials.map((credential) => ({
          name: "revoke-credential" as const,
          data: { credentialId: credential.id, taskId: credential.taskId },
          opts: {
            jobId: credential.id,
            attempts,
            backoff: { type: "exponential", delay: backoffMs },
            removeOnComplete: true,
            removeOnFail: true,
          },
        })),
      );
    },
    async scheduleDeadline(taskId, deadline, now) {
      await queue.add(
        "task-deadline",
        { taskId },
        {
          jobId: deadlineJobId(taskId),
          delay: Math.max(0, deadline - now),
          attempts: 5,
          backoff: { type: "exponential", delay: backoffMs },
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    },
    async enqueueEmergency(revocationId) {
      await queue.add(
        "emergency-revocation",
        { revocationId },
        {
          jobId: emergencyJobId(revocationId),
          // A run stopped by a worker shutdown is retried; after that the reconciler re-queues it.
          attempts: EMERGENCY_ATTEMPTS,
          backoff: { type: "fixed", delay: EMERGENCY_RETRY_MS },
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    },
    async enqueueAuditVerification(verificationId) {
      await queue.add(
        "audit-verify",
        { verificationId },
        {
          jobId: `audit-verify-${verificationId}`,
          // A worker that dies mid-walk loses the job to another, which walks again from the start.
          attempts: 3,
          backoff: { type: "fixed", delay: EMERGENCY_RETRY_MS },
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    },
    async enqueueApprovalWebhook(approvalId) {
      await queue.add(
        "approval-webhook",
        { approvalId },
        {
          jobId: `webhook-${approvalId}`,
          attempts: 8,
          backoff: { type: "exponential", delay: backoffMs },
          removeOnComplete: true,
          removeOnFail: 100,
        },
      );
    },
    async enqueueSignals(jobs) {
      if (jobs.length === 0) return;
      await queue.addBulk(
        jobs.map((job) => ({
          name: "ssf-deliver" as const,
          data: { streamId: job.streamId, claims: job.claims },
          opts: {
            jobId: `ssf-${job.claims.jti}`,
            attempts: deps.options.signalAttempts,
            backoff: { type: "exponential", delay: deps.options.signalBackoffMs },
            removeOnComplete: true,
            removeOnFail: 1000,
          },
        })),
      );
    },
    async cancelDeadline(taskId) {
      await queue.remove(deadlineJobId(taskId));
    },
    async ensureReconciler() {
      await queue.upsertJobScheduler(
        "reconcile",
        { every: reconcileIntervalMs },
        { name: "reconcile", data: {}, opts: { removeOnComplete: true, removeOnFail: true } },
      );
      await queue.upsertJobScheduler(
        "provider-housekeeping",
        { every: reconcileIntervalMs },
        { name: "provider-housekeeping", data: {}, opts: { removeOnComplete: true, removeOnFail: true } },
      );
    },
    async depth() {
      const counts = await queue.getJobCounts("waiting", "active", "delayed", "failed");
      return counts;
    },
    async ping() {
      await queue.waitUntilReady();
      await deps.connection.ping();
    },
    close: () => queue.close(),
  };
}
