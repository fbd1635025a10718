import { z } from "zod";

/**
 * The broker answers the operator commands read, as shared/API.md fixes them. Only the fields the tables
 * show are required; everything else passes through untouched to `--json`.
 */

const time = z.string();
const nullableTime = z.string().nullable();

export const credentialView = z.object({
  credential_id: z.string(),
  task_id: z.string().optional(),
  profile: z.string(),
  provider: z.string(),
  state: z.string(),
  issued_at: nullableTime,
  expires_at: nullableTime,
  revoked_at: nullableTime,
  downstream: z.object({ account: z.string().nullable().optional() }).optional(),
  last_error: z.string().nullable().optional(),
});
export type CredentialView = z.infer<typeof credentialView>;

export const taskView = z.object({
  task_id: z.string(),
  state: z.string(),
  owner: z.string(),
  agent: z.string(),
  initiator: z
    .object({ subject: z.string().nullable().optional(), verified: z.boolean().optional() })
    .nullable(),
  intent: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
  parent_task_id: z.string().nullable(),
  depth: z.number(),
  profiles: z.array(z.string()).nullable().optional(),
  created_at: time,
  deadline: time,
  closed_at: nullableTime,
  close_reason: z.string().nullable(),
  credentials: z.array(credentialView),
  children: z.array(z.string()),
});
export type TaskView = z.infer<typeof taskView>;

/** A task of `GET /v1/admin/tasks`: its credentials counted per state, not listed. */
export const taskSummary = taskView.omit({ credentials: true }).extend({
  credential_counts: z.object({ total: z.number() }).catchall(z.number()),
});
export type TaskSummaryView = z.infer<typeof taskSummary>;

export const taskList = z.object({ tasks: z.array(taskSummary), next_cursor: z.string().nullable() });
export const credentialList = z.object({
  credentials: z.array(credentialView),
  next_cursor: z.string().nullable(),
});

const selector = z.record(z.string(), z.union([z.string(), z.boolean()]));

export const revocationStatus = z.object({
  revocation_id: z.string(),
  state: z.enum(["running", "completed", "failed"]),
  dry_run: z.boolean().optional(),
  selector: selector.optional(),
  tasks: z.number(),
  credentials: z.number(),
  progress: z
    .object({
      revoked: z.number(),
      expired: z.number(),
      not_issued: z.number(),
      revoking: z.number(),
      revoke_failed: z.number(),
    })
    .optional(),
  failed: z
    .array(z.object({ credential_id: z.string(), task_id: z.string(), last_error: z.string().nullable() }))
    .optional(),
});
export type RevocationStatus = z.infer<typeof revocationStatus>;

export const approvalView = z.object({
  approval_id: z.string(),
  state: z.string(),
  task_id: z.string().nullable().optional(),
  profile: z.string().nullable().optional(),
  requester: z.string().nullable().optional(),
  scopes: z.array(z.string()).nullable().optional(),
  ttl_seconds: z.number().nullable().optional(),
  reason: z.string().nullable().optional(),
  created_at: nullableTime.optional(),
  expires_at: nullableTime.optional(),
});
export type ApprovalView = z.infer<typeof approvalView>;

export const approvalList = z.object({
  approvals: z.array(approvalView),
  next_cursor: z.string().nullable(),
});

export const verifyResult = z.union([
  z.object({
    valid: z.literal(true),
    events: z.number(),
    checkpoints: z.number(),
    first_seq: z.number().nullable().optional(),
    last_seq: z.number().nullable().optional(),
  }),
  z.object({
    valid: z.literal(false),
    events: z.number(),
    checkpoints: z.number(),
    first_invalid: z.object({ seq: z.number(), reason: z.string() }),
  }),
]);

export const rotateResult = z.object({ kid: z.string(), previous_kid: z.string().nullable() });

/** An audit event as `GET /v1/audit` lists it; kept whole (every field is part of its hash). */
export const auditPage = z.object({
  events: z.array(z.record(z.string(), z.unknown())),
  next_cursor: z.string().nullable(),
});

/** `POST /v1/audit/checkpoints`: the checkpoint signed now, or the newest when nothing was appended since. */
export const sealResult = z.object({
  checkpoint: z.object({ seq: z.number(), hash: z.string(), time: z.string(), kid: z.string() }).loose(),
  created: z.boolean(),
});

export const checkpointList = z.object({
  anchor: z.record(z.string(), z.unknown()).nullable(),
  checkpoints: z.array(z.record(z.string(), z.unknown())),
});
