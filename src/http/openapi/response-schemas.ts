import { z } from "zod";
import { PROVIDER_KINDS } from "../../../providers/provider.js";
import { AUDIT_EVENT_TYPES } from "../../audit/audit-types.js";
import { CREDENTIAL_STATES, FAILURE_KINDS } from "../../credentials/credential-types.js";
import { BROKER_ERROR_CODES } from "../../shared/errors.js";

/**
 * The response bodies of the HTTP API as zod schemas: the shapes `http/views.ts` and the services render,
 * written once so the OpenAPI document (`openapi-document.ts`) and the tests that validate real responses
 * read the same definitions. Objects are exact (a field the views add must be added here too, or the
 * response tests fail); the provider-specific secret, token claims, audit details and the evidence
 * report's entries are open objects.
 */

export const time = z.iso.datetime().describe("RFC 3339, UTC");
const nullableTime = time.nullable();
const principalId = z.string().describe("A principal id, `<issuer name>:<sub>`");
const openObject = z.record(z.string(), z.unknown());

export const credentialResponse = z
  .object({
    credential_id: z.string().describe("`crd_…`"),
    task_id: z.string(),
    profile: z.string(),
    provider: z.enum(PROVIDER_KINDS),
    state: z.enum(CREDENTIAL_STATES).describe("An active credential past its expiry reads as `expired`"),
    issued_at: nullableTime,
    expires_at: nullableTime,
    revoked_at: nullableTime,
    ttl_seconds: z.number().int(),
    scopes: z.array(z.string()),
    downstream: z.object({ account: z.string().nullable().describe("The identity the secret acts as") }),
    last_error: z.string().nullable(),
    failure_kind: z.enum(FAILURE_KINDS).nullable().describe("Why it is (or was) in `revoke_failed`"),
    resolution: z
      .object({ by: principalId, at: time, reason: z.string() })
      .nullable()
      .describe("Who settled a `revoke_failed` credential by hand (state `resolved`)"),
  })
  .describe("A credential as the broker records it; never the secret.");

export const taskResponse = z
  .object({
    task_id: z.string().describe("`tsk_…`"),
    state: z.enum(["open", "closing", "closed"]),
    owner: principalId,
    agent: principalId,
    initiator: z.object({ subject: z.string(), verified: z.boolean() }),
    intent: z.string(),
    labels: z.record(z.string(), z.string()),
    parent_task_id: z.string().nullable(),
    depth: z.number().int().min(0),
    profiles: z.array(z.string()).nullable().describe("null: every profile the policy allows"),
    created_at: time,
    deadline: time,
    closed_at: nullableTime,
    close_reason: z.enum(["closed", "deadline", "revoked", "parent_closed"]).nullable(),
    credentials: z.array(credentialResponse),
    children: z.array(z.string()).describe("Ids of the child tasks"),
  })
  .describe("The task object.");

export const issuedCredentialResponse = z
  .object({
    credential_id: z.string(),
    task_id: z.string(),
    profile: z.string(),
    provider: z.enum(PROVIDER_KINDS),
    issued_at: nullableTime,
    expires_at: nullableTime,
    ttl_seconds: z.number().int().describe("The granted TTL"),
    scopes: z.array(z.string()),
    downstream: z.object({ account: z.string().nullable() }),
    secret: openObject.describe(
      "Provider-specific, returned once and never stored. signer: `{token, token_type}`; Vault dynamic " +
        "secret: `{lease_id, data}`; Vault token: `{token, accessor}`; STS: `{access_key_id, " +
        "secret_access_key, session_token, expiration}`",
    ),
    notes: z.array(z.string()).describe("E.g. why the granted TTL differs from the one asked for"),
  })
  .describe("The one-time answer carrying the secret.");

export const approvalRequiredResponse = z
  .object({
    approval_id: z.string().describe("`apr_…`"),
    state: z.literal("pending"),
    expires_at: time,
  })
  .describe("The request waits for an approver; poll the approval.");

export const approvalResponse = z.object({
  approval_id: z.string(),
  state: z
    .enum(["pending", "approved", "denied", "expired", "cancelled"])
    .describe("`issuing` and `issued` read as `approved` (see `credential_issued`)"),
  task_id: z.string(),
  requester: principalId,
  profile: z.string(),
  scopes: z.array(z.string()),
  ttl_seconds: z.number().int().nullable(),
  reason: z.string(),
  policy_ids: z.array(z.string()),
  created_at: time,
  expires_at: time,
  decided_by: principalId.nullable(),
  decided_at: nullableTime,
  comment: z.string().nullable(),
  credential_issued: z.boolean(),
  credential_id: z.string().nullable(),
  note: z.string().nullable().describe("Why it was cancelled or refused at redemption"),
  credential: issuedCredentialResponse
    .optional()
    .describe("Only on the requester's one redeeming read of an approved approval"),
});

const nextCursor = z.string().nullable().describe("Pass as `cursor` for the next page; null at the end");

const count = z.number().int().min(0);
export const taskSummaryResponse = taskResponse
  .omit({ credentials: true })
  .extend({
    credential_counts: z
      .object({
        live: count.describe(
          "pending or active, as recorded (one past its expiry counts until marked expired)",
        ),
        revoking: count,
        revoked: count,
        expired: count,
        revoke_failed: count,
        failed: count,
        resolved: count,
        total: count,
      })
      .describe("The task's credentials per state (kept as they change; the listing never reads them)"),
  })
  .describe("A task in the admin listing: the task object with its credentials counted, not listed.");

export const taskListResponse = z.object({ tasks: z.array(taskSummaryResponse), next_cursor: nextCursor });
export const credentialListResponse = z.object({
  credentials: z.array(credentialResponse),
  next_cursor: nextCursor,
});
export const approvalListResponse = z.object({
  approvals: z.array(approvalResponse),
  next_cursor: nextCursor,
});

const selector = z
  .union([
    z.object({ task_id: z.string() }),
    z.object({ agent: z.string() }),
    z.object({ initiator: z.string() }),
    z.object({ profile: z.string() }),
    z.object({ provider: z.string() }),
    z.object({ all: z.literal(true) }),
  ])
  .describe("Exactly one key");

export const revocationStatusResponse = z
  .object({
    revocation_id: z.string().describe("`rev_…`"),
    state: z.enum(["running", "completed", "failed"]),
    dry_run: z.boolean(),
    selector,
    reason: z.string(),
    actor: principalId,
    created_at: time,
    tasks: z.number().int().describe("Tasks matched, with their descendants"),
    credentials: z.number().int().describe("Unsettled credentials reached"),
    progress: z
      .object({
        revoked: z.number().int(),
        expired: z.number().int(),
        not_issued: z.number().int(),
        revoking: z.number().int(),
        revoke_failed: z.number().int(),
      })
      .optional(),
    failed: z
      .array(z.object({ credential_id: z.string(), task_id: z.string(), last_error: z.string().nullable() }))
      .optional(),
  })
  .describe("`progress` and `failed` are read back on GET.");

export const keyRotationResponse = z.object({ kid: z.string(), previous_kid: z.string().nullable() });

const decision = z.object({
  action: z.string(),
  effect: z.enum(["allow", "deny", "approval_required"]),
  policy_ids: z.array(z.string()),
  policy_set_hash: z.string(),
});

export const auditEventResponse = z.object({
  seq: z.number().int(),
  time,
  type: z.enum(AUDIT_EVENT_TYPES),
  actor: z.string().nullable(),
  task_id: z.string().nullable(),
  credential_id: z.string().nullable(),
  decision: decision.nullable(),
  reason: z.string().nullable(),
  details: openObject.describe("Per event type; ids, names, times, counts and keyed hashes only"),
  prev_hash: z.string(),
  hash: z.string().describe("SHA-256(prev_hash ‖ canonical JSON of the event without hash)"),
});

export const auditPageResponse = z.object({ events: z.array(auditEventResponse), next_cursor: nextCursor });

const verifyResult = z.union([
  z.object({
    valid: z.literal(true),
    events: z.number().int(),
    checkpoints: z.number().int(),
    first_seq: z.number().int().nullable(),
    last_seq: z.number().int().nullable(),
  }),
  z.object({
    valid: z.literal(false),
    events: z.number().int(),
    checkpoints: z.number().int(),
    first_invalid: z.object({ seq: z.number().int(), reason: z.string() }),
  }),
]);
const verifyScope = z
  .enum(["full", "since_checkpoint"])
  .describe("What was walked: the whole chain, or from the newest signed checkpoint to the head");
export const auditVerifyResponse = z.union([
  verifyResult.options[0].extend({ scope: verifyScope }),
  verifyResult.options[1].extend({ scope: verifyScope }),
]);

export const auditVerificationRunResponse = z
  .object({
    verification_id: z.string().describe("`ver_…`"),
    state: z.enum(["running", "completed"]),
    actor: principalId,
    started_at: time,
    finished_at: nullableTime,
    progress: z.object({
      events: z.number().int().describe("Events examined so far (updated every 10,000)"),
      last_seq: z.number().int().nullable(),
      head_seq: z
        .number()
        .int()
        .nullable()
        .describe("The head the walk runs to; null until the worker starts"),
    }),
    result: verifyResult.nullable().describe("The outcome once `completed`, as a full GET /v1/audit/verify"),
  })
  .describe("A full walk of the audit chain, run as a job on the worker role (kept 7 days).");

export const publicJwk = z.object({
  kty: z.enum(["EC", "OKP"]),
  crv: z.string(),
  x: z.string(),
  y: z.string().optional(),
  kid: z.string(),
  alg: z.string(),
  use: z.literal("sig"),
});

export const jwksResponse = z.object({ keys: z.array(publicJwk) });

export const checkpointResponse = z
  .looseObject({
    seq: z.number().int(),
    hash: z.string(),
    time,
    kid: z.string(),
    jws: z.string(),
    public_jwk: publicJwk,
  })
  .describe("A signed statement of the chain's length and head hash.");

export const checkpointsResponse = z.looseObject({
  anchor: checkpointResponse.nullable(),
  checkpoints: z.array(checkpointResponse),
});

/** `POST /v1/audit/checkpoints`: the checkpoint made now, or the newest one when nothing was appended since. */
export const sealResponse = z.object({ checkpoint: checkpointResponse, created: z.boolean() });

/** Sections are fixed; their entries are open (evidence/evidence-types.ts describes them). */
export const evidenceReportResponse = z.looseObject({
  report: z.looseObject({
    kind: z.literal("credbroker.evidence"),
    version: z.number().int(),
    generated_at: time,
    subject_task_id: z.string(),
    root_task_id: z.string(),
    at: nullableTime,
  }),
  summary: openObject,
  tasks: z.array(openObject),
  decisions: z.array(openObject),
  approvals: z.array(openObject),
  credentials: z.array(openObject),
  timeline: z.array(openObject),
  valid_at: openObject.nullable(),
  chain: openObject,
  controls: z.array(openObject),
});

export const introspectionResponse = z
  .union([
    z.object({ active: z.literal(false) }),
    z.looseObject({
      active: z.literal(true),
      token_type: z.enum(["Bearer", "DPoP"]).describe("`DPoP`: bound to a key (`cnf.jkt`)"),
      iss: z.string(),
      sub: z.string(),
      aud: z.union([z.string(), z.array(z.string())]),
      exp: z.number().int(),
      iat: z.number().int(),
      jti: z.string(),
      client_id: z.string(),
      scope: z.string(),
      task_id: z.string(),
    }),
    z
      .looseObject({
        active: z.literal(true),
        token_type: z.literal("N_A"),
        iss: z.string(),
        sub: z.string(),
        aud: z.union([z.string(), z.array(z.string())]),
        exp: z.number().int(),
        iat: z.number().int(),
        txn: z.string().describe("The task id"),
        req_wl: z.string(),
      })
      .describe("A live task token, answered to a workload related to its task"),
  ])
  .describe("RFC 7662; active tokens carry their claims.");

export const healthResponse = z.object({ status: z.literal("ok") });

export const readinessResponse = z.union([
  z.object({ status: z.literal("ready"), checks: z.record(z.string(), z.literal("ok")) }),
  z.object({
    status: z.literal("not_ready"),
    reason: z.string(),
    checks: z.record(z.string(), z.string()).describe("`ok`, or the problem, per check"),
  }),
]);

export const errorResponse = z.object({
  error: z.object({
    code: z.enum(BROKER_ERROR_CODES),
    message: z.string().describe("One human sentence"),
    details: openObject
      .optional()
      .describe(
        "Per code: invalid_request `{issues: [{path, message}]}`; invalid_assertion `{reason}`; " +
          "policy_denied `{policies, policy_set_hash?, rule?}`; approval_not_pending `{state, reason?}`; " +
          "unknown_profile `{profile | profiles}`; ttl_out_of_range `{max_ttl_seconds}`; " +
          "scope_not_allowed `{allowed, profile? | profiles? | scopes?}`; provider_error `{provider}`; " +
          "quota_exceeded `{limit, max}`",
      ),
  }),
});

export const oauthErrorResponse = z
  .object({ error: z.literal("invalid_client"), error_description: z.string() })
  .describe("RFC 6749 §5.2, for resource-server clients at introspection.");

/** One emergency revocation as recorded at its start (the listing computes no progress). */
export const revocationRecordResponse = revocationStatusResponse.omit({ progress: true, failed: true });
export const revocationListResponse = z.object({
  revocations: z.array(revocationRecordResponse),
  next_cursor: nextCursor,
});

const effect = z.enum(["allow", "deny", "approval_required"]);
export const whoamiResponse = z.object({
  principal: z.object({
    id: principalId,
    issuer: z.string(),
    subject: z.string(),
    kind: z.string(),
    tags: z.record(z.string(), z.string()),
  }),
  actions: z
    .record(z.string(), effect)
    .describe("A dry run of OpenTask, ReadAudit, RotateKeys, EmergencyRevoke"),
  profiles: z
    .record(z.string(), effect)
    .describe("A dry run of RequestCredential for each configured profile"),
});
