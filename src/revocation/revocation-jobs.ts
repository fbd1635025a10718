import { z } from "zod";
import { revocationKeys } from "./revocation-keys.js";

/** The one map of job names to payloads; payloads are parsed at the worker's edge. */
export const jobPayloadSchemas = {
  "revoke-credential": z.object({ credentialId: z.string(), taskId: z.string() }),
  "task-deadline": z.object({ taskId: z.string() }),
  /** Closes an emergency revocation's matched tasks in batches and keeps its progress counters. */
  "emergency-revocation": z.object({ revocationId: z.string() }),
  reconcile: z.object({}),
  /** Tells the configured webhook about a new approval (retried with backoff). */
  "approval-webhook": z.object({ approvalId: z.string() }),
  /** Walks the whole audit chain for `POST /v1/audit/verifications` (progress and result in Redis). */
  "audit-verify": z.object({ verificationId: z.string() }),
  /** Signs and pushes one Security Event Token to one SSF stream's receiver (docs/signals.md). */
  "ssf-deliver": z.object({ streamId: z.string(), claims: z.record(z.string(), z.unknown()) }),
  /** Runs every provider's periodic upkeep (STS: prunes deny entries of expired sessions). */
  "provider-housekeeping": z.object({}),
} as const;

export type JobName = keyof typeof jobPayloadSchemas;
export type JobPayload<N extends JobName> = z.infer<(typeof jobPayloadSchemas)[N]>;

export const QUEUE_NAME = "credbroker";

/** BullMQ keys live under the broker's prefix, in one hash tag so they work on Redis Cluster. */
export const bullPrefix = (keyPrefix: string): string => revocationKeys(keyPrefix).bull;

/** BullMQ job ids may not contain ':'; ours are derived from ids that never do. */
export const deadlineJobId = (taskId: string): string => `deadline-${taskId}`;

/** One run per emergency revocation at a time. */
export const emergencyJobId = (revocationId: string): string => `emergency-${revocationId}`;
