import { z } from "zod";
import { CREDENTIAL_STATES } from "../credentials/credential-types.js";
import type { EvidenceReport } from "./evidence-types.js";

/**
 * The evidence report's wire shape as one zod schema, shared by the broker and the operator CLI
 * (`credbroker evidence`). The compiler checks it equal to `EvidenceReport` (the bottom of this file), so a
 * field renamed or added on either side fails to compile; the tests parse every report the broker builds.
 * Objects strip unknown keys, so a CLI still reads a report from a newer broker that only adds fields.
 */

const time = z.string();
const nullableTime = z.string().nullable();
const stringList = z.array(z.string());
const initiator = z.object({ subject: z.string(), verified: z.boolean() });
const seqRef = z.object({ by: z.string().nullable(), at: time, seq: z.number() });
const effect = z.enum(["allow", "deny", "approval_required"]);

const taskEndPath = z.enum(["close", "deadline", "parent_closed", "emergency"]);
const selector = z.record(z.string(), z.union([z.string(), z.boolean()]));

const taskEntry = z.object({
  task_id: z.string(),
  relation: z.enum(["ancestor", "subject", "descendant"]),
  parent_task_id: z.string().nullable(),
  depth: z.number(),
  intent: z.string(),
  initiator,
  owner: z.string(),
  agent: z.string(),
  act_chain: stringList,
  state: z.enum(["open", "closing", "closed"]),
  created_at: time,
  deadline: time,
  closing_at: nullableTime,
  closed_at: nullableTime,
  close_reason: z.enum(["closed", "deadline", "revoked", "parent_closed"]).nullable(),
  labels: z.record(z.string(), z.string()),
  children: stringList,
  ending: z
    .object({
      path: taskEndPath,
      at: time,
      by: z.string().nullable(),
      seq: z.number().nullable(),
      note: z.string().nullable(),
      revocation: z
        .object({
          revocation_id: z.string(),
          selector: selector.nullable(),
          reason: z.string().nullable(),
          operator: z.string().nullable(),
          started_seq: z.number().nullable(),
        })
        .nullable(),
    })
    .nullable(),
});

const decisionEntry = z.object({
  seq: z.number(),
  time,
  actor: z.string().nullable(),
  task_id: z.string().nullable(),
  credential_id: z.string().nullable(),
  action: z.string(),
  effect,
  policy_ids: stringList,
  policy_set_hash: z.string(),
});

const approvalEntry = z.object({
  approval_id: z.string(),
  task_id: z.string().nullable(),
  credential_id: z.string().nullable(),
  profile: z.string().nullable(),
  outcome: z.enum(["pending", "approved", "denied", "expired", "cancelled", "redeemed"]),
  requested: seqRef.nullable(),
  decided: seqRef
    .extend({ outcome: z.enum(["approved", "denied"]), comment: z.string().nullable() })
    .nullable(),
  ended: seqRef
    .extend({ outcome: z.enum(["expired", "cancelled", "redeemed"]), reason: z.string().nullable() })
    .nullable(),
});

const credentialEntry = z.object({
  credential_id: z.string(),
  task_id: z.string(),
  agent: z.string(),
  profile: z.string(),
  provider: z.string(),
  scopes: stringList,
  ttl_seconds: z.number(),
  request_reason: z.string(),
  downstream_account: z.string().nullable(),
  state: z.enum(CREDENTIAL_STATES),
  created_at: time,
  issued_at: nullableTime,
  expires_at: nullableTime,
  revoked_at: nullableTime,
  valid_until: nullableTime,
  policy_ids: stringList,
  policy_set_hash: z.string(),
  approval_id: z.string().nullable(),
  revocation: z.object({
    outcome: z.enum(["not_issued", "live", "revoking", "revoked", "expired", "revoke_failed", "resolved"]),
    reason: z.string().nullable(),
    attempts: z.number(),
    last_error: z.string().nullable(),
    event_seq: z.number().nullable(),
    failure_kind: z.string().nullable(),
    resolved: z.object({ by: z.string(), at: time, reason: z.string() }).nullable(),
    path: z.union([taskEndPath, z.literal("broker")]).nullable(),
    revocation_id: z.string().nullable(),
    requested: seqRef.nullable(),
    settled: seqRef.extend({ event: z.enum(["revoked", "expired", "revoke_failed", "resolved"]) }).nullable(),
    confirmation: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable(),
  }),
  event_seqs: z.array(z.number()),
});

const timelineEntry = z.object({
  seq: z.number(),
  time,
  type: z.string(),
  actor: z.string().nullable(),
  task_id: z.string().nullable(),
  credential_id: z.string().nullable(),
  summary: z.string(),
  hash: z.string(),
});

const accessEntry = z.object({
  seq: z.number(),
  time,
  actor: z.string().nullable(),
  task_id: z.string().nullable(),
  read: z.enum(["evidence", "task", "audit"]),
  action: z.string(),
  effect,
  policy_ids: stringList,
});

const validCredential = z.object({
  credential_id: z.string(),
  task_id: z.string(),
  profile: z.string(),
  provider: z.string(),
  downstream_account: z.string().nullable(),
  issued_at: time,
  valid_until: time,
  revoke_failed: z.boolean(),
});

const validAtAnswer = z.object({
  at: time,
  rule: z.string(),
  credentials: z.array(validCredential),
  possibly_valid: z.array(z.object({ credential_id: z.string(), task_id: z.string(), possibly_until: time })),
});

const problem = z.object({ seq: z.number(), reason: z.string() });

const verifyResult = z.union([
  z.object({
    valid: z.literal(true),
    events: z.number(),
    checkpoints: z.number(),
    first_seq: z.number().nullable(),
    last_seq: z.number().nullable(),
  }),
  z.object({
    valid: z.literal(false),
    events: z.number(),
    checkpoints: z.number(),
    first_invalid: problem,
  }),
]);

const chainEvidence = z.object({
  cited: z.object({
    valid: z.boolean(),
    events: z.number(),
    links_checked: z.number(),
    problems: z.array(problem),
  }),
  whole_chain: verifyResult,
  checkpoints: z.object({
    covered_through_seq: z.number().nullable(),
    covered_events: z.number(),
    uncovered_events: z.number(),
    uncovered_seqs: z.array(z.number()),
    latest: z
      .object({ seq: z.number(), hash: z.string(), time, kid: z.string(), signature_valid: z.boolean() })
      .nullable(),
    verify_offline: z.string(),
  }),
});

const controlFramework = z.object({
  framework: z.enum(["owasp_agentic_top10_2026", "owasp_nhi_top10_2025", "csa_maestro", "nist_ai_rmf_1_0"]),
  title: z.string(),
  controls: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      status: z.enum(["evidenced", "supports", "not covered"]),
      exercised: z.boolean(),
      rationale: z.string(),
    }),
  ),
});

const summary = z.object({
  initiator,
  agent_chain: stringList,
  tasks: z.number(),
  truncated: z.boolean(),
  decisions: z.object({ allow: z.number(), deny: z.number(), approval_required: z.number() }),
  credentials: z.partialRecord(z.enum(CREDENTIAL_STATES), z.number()),
  approvals: z.number(),
  events: z.number(),
});

/** `GET /v1/tasks/{id}/evidence` (JSON). */
export const evidenceReportSchema = z.object({
  report: z.object({
    kind: z.literal("credbroker.evidence"),
    version: z.literal(1),
    generated_at: time,
    subject_task_id: z.string(),
    root_task_id: z.string(),
    at: nullableTime,
  }),
  summary,
  tasks: z.array(taskEntry),
  decisions: z.array(decisionEntry),
  approvals: z.array(approvalEntry),
  credentials: z.array(credentialEntry),
  timeline: z.array(timelineEntry),
  accessed_by: z.array(accessEntry),
  valid_at: validAtAnswer.nullable(),
  chain: chainEvidence,
  controls: z.array(controlFramework),
});

/** Mutual assignability: true only when the schema's output and `EvidenceReport` have the same shape. */
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Fails to compile when the schema and `EvidenceReport` drift apart. */
export const SCHEMA_MATCHES_REPORT: SameShape<z.infer<typeof evidenceReportSchema>, EvidenceReport> = true;

/** Where a value first differs from the report's shape, or null when it is a report. */
export function reportShapeProblem(value: unknown): string | null {
  const result = evidenceReportSchema.safeParse(value);
  if (result.success) return null;
  const issue = result.error.issues[0];
  return issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "wrong shape";
}
