import type { VerifyResult } from "../audit/audit-verify.js";
import type { CredentialState } from "../credentials/credential-types.js";
import type { CloseReason, TaskState } from "../tasks/task-types.js";

/**
 * The evidence report of one task (`GET /v1/tasks/{id}/evidence`). Snake_case JSON, times RFC 3339 UTC.
 * The subject task's ancestors appear as facts only (the delegation chain); decisions, approvals,
 * credentials and events cover the subject task and its descendants.
 */
export interface EvidenceReport {
  report: {
    kind: "credbroker.evidence";
    version: 1;
    generated_at: string;
    subject_task_id: string;
    root_task_id: string;
    /** The instant asked about with `?at=`, or null. */
    at: string | null;
  };
  summary: EvidenceSummary;
  /** Ancestors, the subject task and its descendants, outermost first (depth, then creation time). */
  tasks: TaskEntry[];
  decisions: DecisionEntry[];
  approvals: ApprovalEntry[];
  credentials: CredentialEntry[];
  /**
   * Every event of the subject task and its descendants, in chain (seq) order, except reads of them
   * (`accessed_by`) and approval views and listings.
   */
  timeline: TimelineEntry[];
  /** Who read these tasks' evidence, records or audit events (reading never changes the other sections). */
  accessed_by: AccessEntry[];
  valid_at: ValidAtAnswer | null;
  chain: ChainEvidence;
  controls: ControlFramework[];
}

export interface EvidenceSummary {
  initiator: { subject: string; verified: boolean };
  /** Agents of the delegation chain down to the subject task, outermost first. */
  agent_chain: string[];
  tasks: number;
  /** True when the tree is larger than the report shows (see `tasks`). */
  truncated: boolean;
  decisions: { allow: number; deny: number; approval_required: number };
  credentials: Partial<Record<CredentialState, number>>;
  approvals: number;
  events: number;
}

export type TaskRelation = "ancestor" | "subject" | "descendant";

/** One level of the delegation chain. */
export interface TaskEntry {
  task_id: string;
  relation: TaskRelation;
  parent_task_id: string | null;
  depth: number;
  intent: string;
  initiator: { subject: string; verified: boolean };
  owner: string;
  agent: string;
  /** Agents of the ancestor tasks, outermost first (the `act` chain of delegated credentials). */
  act_chain: string[];
  state: TaskState;
  created_at: string;
  deadline: string;
  closing_at: string | null;
  closed_at: string | null;
  close_reason: CloseReason | null;
  labels: Record<string, string>;
  /** Child task ids (only listed for the subject task and its descendants). */
  children: string[];
  /** How the task ended; null while it is open. */
  ending: TaskEnding | null;
}

/** Which way a task ended: its close reason in words (`emergency` is close reason `revoked`). */
export type TaskEndPath = "close" | "deadline" | "parent_closed" | "emergency";

/** How a task ended, from its `task.closing` event. */
export interface TaskEnding {
  path: TaskEndPath;
  /** When it began closing. */
  at: string;
  /**
   * Who closed it (the closer; `system:…` for a deadline; the operator for an emergency revocation) and the
   * `task.closing` seq. Both null for an ancestor, whose events a report does not read.
   */
  by: string | null;
  seq: number | null;
  /** The closer's own words: the close request's `reason`, or the emergency revocation's reason. */
  note: string | null;
  /** The emergency revocation that closed this task, or the ancestor it closed with. */
  revocation: EmergencyRevocationRef | null;
}

/** An emergency revocation (`POST /v1/admin/revocations`) as a task's closing recorded it. */
export interface EmergencyRevocationRef {
  revocation_id: string;
  /** What it matched, e.g. `{"agent": "k8s:…"}`; null when the event predates the field. */
  selector: Record<string, string | boolean> | null;
  reason: string | null;
  /** The operator who started it. */
  operator: string | null;
  /** Seq of its `revocation.started` event (it belongs to no task, so the timeline does not show it). */
  started_seq: number | null;
}

/** A policy decision, from a `decision` audit event. */
export interface DecisionEntry {
  seq: number;
  time: string;
  actor: string | null;
  task_id: string | null;
  credential_id: string | null;
  action: string;
  effect: "allow" | "deny" | "approval_required";
  policy_ids: string[];
  policy_set_hash: string;
}

/** A read of a task's evidence report, record or audit events, from a `decision` event marked `read`. */
export interface AccessEntry {
  seq: number;
  time: string;
  actor: string | null;
  task_id: string | null;
  /** What was read: the evidence report, the task record or the task's audit events. */
  read: "evidence" | "task" | "audit";
  action: string;
  effect: "allow" | "deny" | "approval_required";
  policy_ids: string[];
}

/** Where an approval ended up: its last recorded state. */
export type ApprovalOutcome = "pending" | "approved" | "denied" | "expired" | "cancelled" | "redeemed";

/** One approval, folded from its `approval.*` audit events. */
export interface ApprovalEntry {
  approval_id: string;
  task_id: string | null;
  /** The credential issued on redemption, once there is one. */
  credential_id: string | null;
  profile: string | null;
  outcome: ApprovalOutcome;
  requested: { by: string | null; at: string; seq: number } | null;
  /** The human decision: who approved or denied, when, and their comment. */
  decided: {
    by: string | null;
    at: string;
    seq: number;
    outcome: "approved" | "denied";
    comment: string | null;
  } | null;
  /** How it ended after that, if it did: expired, cancelled (with the reason) or redeemed. */
  ended: {
    by: string | null;
    at: string;
    seq: number;
    outcome: "expired" | "cancelled" | "redeemed";
    reason: string | null;
  } | null;
}

/**
 * Why a credential's revocation was asked for: its task's closing path, or `broker` when the broker revoked
 * it on its own (issued while the store or audit log failed, or issuance uncertain; `reason` says which).
 */
export type CredentialEndPath = TaskEndPath | "broker";

/** How a credential ended, or why it has not. */
export type RevocationOutcome =
  | "not_issued"
  | "live"
  | "revoking"
  | "revoked"
  | "expired"
  | "revoke_failed"
  | "resolved";

export interface CredentialEntry {
  credential_id: string;
  task_id: string;
  agent: string;
  profile: string;
  provider: string;
  scopes: string[];
  ttl_seconds: number;
  /** The reason the agent gave when it asked (its own words). */
  request_reason: string;
  downstream_account: string | null;
  /** Recorded state; an active credential past its expiry shows as `expired`. */
  state: CredentialState;
  created_at: string;
  issued_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  /** End of validity: min(expires_at, revoked_at); null when it was never issued. */
  valid_until: string | null;
  policy_ids: string[];
  policy_set_hash: string;
  /** The approval this credential was issued under, if a human had to approve it. */
  approval_id: string | null;
  revocation: {
    outcome: RevocationOutcome;
    reason: string | null;
    attempts: number;
    last_error: string | null;
    /** Seq of the event that settled it (`credential.revoked|expired|revoke_failed|resolved`), if any. */
    event_seq: number | null;
    /** Why revocation failed, while or after it did: `permanent`, `exhausted` or `stalled`. */
    failure_kind: string | null;
    /** An operator settled it by hand (after revoke_failed): who, when and why. */
    resolved: { by: string; at: string; reason: string } | null;
    /** Why revocation was asked for; null when nobody asked (live, lapsed by itself or never issued). */
    path: CredentialEndPath | null;
    /** The emergency revocation (`rev_…`) behind it (path `emergency`, or `parent_closed` under one). */
    revocation_id: string | null;
    /** Who asked for the revocation (the closer, operator or `system:…`), when: `credential.revoking`. */
    requested: { by: string | null; at: string; seq: number } | null;
    /** The event that settled it, with who recorded it: revoked, expired, revoke_failed or resolved by hand. */
    settled: {
      event: "revoked" | "expired" | "revoke_failed" | "resolved";
      by: string | null;
      at: string;
      seq: number;
    } | null;
    /** What the provider confirmed with `credential.revoked` beyond "revoked" (e.g. STS's role-wide cut-off). */
    confirmation: Record<string, string | number | boolean> | null;
  };
  /** Seqs of every event about this credential. */
  event_seqs: number[];
}

export interface TimelineEntry {
  seq: number;
  time: string;
  type: string;
  actor: string | null;
  task_id: string | null;
  credential_id: string | null;
  /** One readable line. */
  summary: string;
  /** The event's chain hash, to match against an audit export. */
  hash: string;
}

/** A credential valid at the instant asked about. */
export interface ValidCredential {
  credential_id: string;
  task_id: string;
  profile: string;
  provider: string;
  downstream_account: string | null;
  issued_at: string;
  valid_until: string;
  /** True when revocation failed: the downstream never confirmed it, so it counts as valid until expiry. */
  revoke_failed: boolean;
}

export interface ValidAtAnswer {
  at: string;
  /** The rule applied, in words. */
  rule: string;
  /** Exactly the credentials valid at `at`. */
  credentials: ValidCredential[];
  /**
   * Credentials never recorded as issued whose issuance outcome is unknown (`issue_uncertain`): not valid by
   * the rule, but a secret may exist downstream until `possibly_until`.
   */
  possibly_valid: { credential_id: string; task_id: string; possibly_until: string }[];
}

/** Verification of the events this report cites, and of the whole chain they belong to. */
export interface ChainEvidence {
  cited: {
    valid: boolean;
    events: number;
    /** Pairs of cited events with consecutive seqs whose `prev_hash` link was checked. */
    links_checked: number;
    problems: { seq: number; reason: string }[];
  };
  whole_chain: VerifyResult;
  checkpoints: CheckpointCoverage;
}

/**
 * Which cited events a signed checkpoint covers. An event is covered when its seq is at most the newest
 * checkpoint's, that checkpoint's signature holds and the whole chain verifies (so the event is linked to
 * the signed hash). Uncovered events verify by their hash links only until the next checkpoint is signed
 * (every `audit.checkpoint_interval_seconds`, or now with `POST /v1/audit/checkpoints`).
 */
export interface CheckpointCoverage {
  /** Cited events with a seq up to this one are covered; null when none is. */
  covered_through_seq: number | null;
  covered_events: number;
  uncovered_events: number;
  /** Seqs of the cited events no signed checkpoint covers yet. */
  uncovered_seqs: number[];
  /** The newest signed checkpoint, or null before the first one. */
  latest: { seq: number; hash: string; time: string; kid: string; signature_valid: boolean } | null;
  /** How to check the checkpoints and the covered events without trusting the broker. */
  verify_offline: string;
}

/**
 * How far this report carries a control (docs/evidence.md): `evidenced` — the report's records show the
 * control operating in this task tree; `supports` — the broker does its part and the report shows it, but
 * the control needs more than the broker can see; `not covered` — nothing here exercised it, or the
 * report shows it failing (the rationale says which).
 */
export type ControlStatus = "evidenced" | "supports" | "not covered";

export interface ControlEntry {
  id: string;
  name: string;
  status: ControlStatus;
  /** Whether anything in this task tree exercised the control (false means `not covered`). */
  exercised: boolean;
  /** One line: the facts of this report behind the status, and what the broker cannot show. */
  rationale: string;
}

export interface ControlFramework {
  framework: "owasp_agentic_top10_2026" | "owasp_nhi_top10_2025" | "csa_maestro" | "nist_ai_rmf_1_0";
  title: string;
  controls: ControlEntry[];
}
