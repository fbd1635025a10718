import { z } from "zod";
import { isAuditCursor } from "../audit/audit-cursor.js";
import { CREDENTIAL_STATES } from "../credentials/credential-types.js";
import { selectorSchema } from "../revocation/emergency-revocation.js";

const principalId = z.string().min(3).max(512);
const taskId = z.string().regex(/^tsk_[A-Za-z0-9_-]{10,64}$/, "must be a task id (tsk_…)");

/** `POST /v1/tasks`. Unknown fields are refused so typos never pass silently. */
export const openTaskBody = z
  .object({
    intent: z.string().min(1).max(2000),
    ttl_seconds: z.number().int().positive(),
    initiator: z
      .object({ subject: z.string().min(1).max(512), token: z.string().min(1).max(16_384).optional() })
      .strict()
      .optional(),
    agent: principalId.optional(),
    parent_task_id: taskId.optional(),
    profiles: z.array(z.string().min(1).max(64)).max(64).optional(),
    labels: z
      .record(z.string().min(1).max(63), z.string().max(256))
      .refine((labels) => Object.keys(labels).length <= 32, "at most 32 labels")
      .optional(),
  })
  .strict();

export const closeTaskBody = z.object({ reason: z.string().max(500).optional() }).strict();

/** `POST /v1/tasks/{id}/credentials`. */
export const credentialRequestBody = z
  .object({
    profile: z.string().min(1).max(64),
    ttl_seconds: z
      .number()
      .int()
      .positive()
      .max(30 * 86_400)
      .optional(),
    scopes: z.array(z.string().min(1).max(256)).max(64).optional(),
    reason: z.string().max(2000).optional(),
  })
  .strict();

/**
 * `POST /v1/introspect` (RFC 7662 §2.1), JSON or form-encoded. The client-authentication fields of
 * RFC 7523 §2.2 are read by the authentication middleware; other fields are ignored, as RFC 6749 §3.2 asks.
 */
export const introspectBody = z.object({
  token: z.string().min(1).max(16_384),
  token_type_hint: z.string().max(64).optional(),
  client_id: z.string().max(128).optional(),
  client_assertion_type: z.string().max(256).optional(),
  client_assertion: z.string().max(16_384).optional(),
});

export const revocationBody = z
  .object({
    selector: selectorSchema,
    reason: z.string().min(1).max(2000),
    dry_run: z.boolean().default(false),
  })
  .strict();

/** `POST /v1/admin/credentials/{id}/resolve`: why the operator settles a revoke_failed credential by hand. */
export const resolveBody = z
  .object({
    reason: z.string().trim().min(1).max(2000),
  })
  .strict();

const limit = z.coerce.number().int().min(1).max(1000).default(100);

/** `GET /v1/audit`. A cursor must be a `next_cursor` of the same kind of listing (with or without task_id). */
export const auditQuery = z
  .object({
    task_id: taskId.optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    limit,
    cursor: z.string().max(64).optional(),
  })
  .strict()
  .superRefine((query, ctx) => {
    if (query.cursor === undefined || isAuditCursor(query.cursor, query.task_id !== undefined)) return;
    ctx.addIssue({
      code: "custom",
      path: ["cursor"],
      message: "not a next_cursor returned by GET /v1/audit for this listing",
    });
  });

/** `GET /v1/audit/verify`: `scope=since_checkpoint` checks only from the newest checkpoint, whatever the length. */
export const auditVerifyQuery = z.object({ scope: z.enum(["since_checkpoint"]).optional() }).strict();

/** `POST /v1/audit/verifications`: no fields (an empty body or `{}`). */
export const verificationBody = z.object({}).strict();

/** `POST /v1/audit/checkpoints`: no fields (an empty body or `{}`). */
export const sealBody = z.object({}).strict();

/** `POST /v1/tasks/{id}/task-token`: no fields (an empty body or `{}`). */
export const taskTokenBody = z.object({}).strict();

export const adminTasksQuery = z
  .object({
    state: z.enum(["open", "closing", "closed"]).optional(),
    agent: z.string().optional(),
    initiator: z.string().optional(),
    limit,
    cursor: z.coerce.number().int().min(0).optional(),
  })
  .strict();

export const adminRevocationsQuery = z
  .object({
    limit,
    cursor: z.coerce.number().int().min(0).optional(),
  })
  .strict();

export const adminCredentialsQuery = z
  .object({
    state: z.enum(CREDENTIAL_STATES).optional(),
    provider: z.string().optional(),
    task_id: taskId.optional(),
    limit,
    cursor: z.coerce.number().int().min(0).optional(),
  })
  .strict();

/** SSF 1.0 §8.1.1 stream configuration, the receiver-supplied properties. */
const ssfDelivery = z
  .object({ method: z.string().max(256), endpoint_url: z.string().max(2048).optional() })
  .strict();
const ssfEvents = z.array(z.string().min(1).max(256)).max(32);
/** `private_key_jwt` travels in the body (RFC 7523 §2.2); the client authentication has read it already. */
const ssfClientAuth = {
  client_id: z.string().max(128).optional(),
  client_assertion_type: z.string().max(256).optional(),
  client_assertion: z.string().max(16_384).optional(),
};

export const streamCreateBody = z
  .object({
    delivery: ssfDelivery,
    events_requested: ssfEvents.optional(),
    description: z.string().max(512).optional(),
    ...ssfClientAuth,
  })
  .strict();

export const streamUpdateBody = z
  .object({
    stream_id: z.string().min(1).max(64),
    delivery: ssfDelivery.optional(),
    events_requested: ssfEvents.optional(),
    description: z.string().max(512).optional(),
    ...ssfClientAuth,
  })
  .strict();

export const streamIdQuery = z.object({ stream_id: z.string().min(1).max(64) }).strict();
export const optionalStreamIdQuery = z.object({ stream_id: z.string().min(1).max(64).optional() }).strict();

export const streamStatusBody = z
  .object({
    stream_id: z.string().min(1).max(64),
    status: z.enum(["enabled", "disabled"]),
    reason: z.string().max(512).optional(),
    ...ssfClientAuth,
  })
  .strict();

export const streamVerifyBody = z
  .object({ stream_id: z.string().min(1).max(64), state: z.string().max(256).optional(), ...ssfClientAuth })
  .strict();

/** RFC 8936 §2.4 poll request (the names are the RFC's). */
export const pollBody = z
  .object({
    maxEvents: z.number().int().min(0).max(10_000).optional(),
    returnImmediately: z.boolean().optional(),
    ack: z.array(z.string().min(1).max(128)).max(1_000).optional(),
    setErrs: z
      .record(
        z.string().min(1).max(128),
        z.object({ err: z.string().max(64), description: z.string().max(1024).optional() }),
      )
      .optional(),
    ...ssfClientAuth,
  })
  .strict();
