/** What happened. Names are `<subject>.<verb>`; new ones may be added, none renamed. */
export const AUDIT_EVENT_TYPES = [
  "assertion.rejected",
  "assertion.rejections",
  "decision",
  "task.opened",
  "task.closing",
  "task.closed",
  "credential.issued",
  "credential.issue_failed",
  "credential.revoking",
  "credential.revoked",
  "credential.expired",
  "credential.revoke_failed",
  "credential.retry",
  "credential.resolved",
  "credential.unrecorded",
  "revocation.started",
  "policy.reloaded",
  "keys.rotated",
  "approval.requested",
  "approval.approved",
  "approval.denied",
  "approval.expired",
  "approval.cancelled",
  "approval.redeemed",
  "approvals.listed",
  "console.signed_in",
  "console.signed_out",
  "signal.received",
  "signal.rejected",
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** The policy outcome recorded with `decision` events. */
export interface AuditDecision {
  action: string;
  effect: "allow" | "deny" | "approval_required";
  policy_ids: string[];
  policy_set_hash: string;
}

/**
 * What a decision let its caller read, when it let them read rather than act on the task: its evidence
 * report, its record (`GET /v1/tasks/{id}`), its audit events, or one of its approvals (an approver looking
 * at a request). A task's evidence report lists these reads under `accessed_by` (approval views not at
 * all) and never among the task's own decisions, so reading a report does not change it.
 */
export type DecisionRead = "evidence" | "task" | "audit" | "approval";

/** Details of events that carry none. */
type NoDetails = Record<string, never>;

/** `approval.*` events: which approval, and who did what to it. */
export type ApprovalDetails = {
  approval_id: string;
  profile: string;
  requester?: string | null;
  approver?: string | null;
  comment?: string | null;
  reason?: string | null;
};

/**
 * The details each event type carries: writers must supply exactly these, and readers (the evidence
 * builder) read them by name, so a renamed field or a new event type fails to compile where it matters.
 * Only ids, names, times, counts and keyed hashes: never a secret.
 */
export type AuditDetailsByType = {
  /** A sampled rejection (the first few per issuer, reason and interval), with the client's address. */
  "assertion.rejected": { path: string; method: string; issuer?: string; address?: string };
  /** Every rejection of one issuer and reason in one interval, counted, with the busiest addresses. */
  "assertion.rejections": {
    issuer: string;
    count: number;
    sampled: number;
    from: string;
    until: string;
    top_addresses: { address: string; count: number }[];
  };
  /** `read` marks a decision that let its caller read (see `DecisionRead`); absent for actions. */
  decision: { read?: DecisionRead };
  "task.opened": { agent: string; parent_task_id: string | null; deadline: number; depth: number };
  /**
   * `note`: the closer's own words (the close request's `reason`, or an emergency revocation's reason). An
   * emergency revocation adds its id, its selector and the seq of its `revocation.started` event, on the
   * tasks it matched and on their descendants.
   */
  "task.closing": {
    note?: string;
    revocation_id?: string;
    selector?: Record<string, string | boolean>;
    revocation_seq?: number;
  };
  "task.closed": NoDetails;
  "credential.issued": {
    profile: string;
    provider: string;
    ttl_seconds: number;
    expires_at: number;
    downstream_account: string;
    /** Keyed hash of the revocation handle. */
    handle: string;
    scopes: string[];
    policy_ids: string[];
    reason: string;
  };
  "credential.issue_failed": { outcome: "not_issued" | "revoking_in_case_issued" };
  "credential.revoking": NoDetails;
  /** What the provider reported beyond "revoked" (e.g. STS's role-wide cut-off). */
  "credential.revoked": Record<string, string | number | boolean>;
  "credential.expired": NoDetails;
  "credential.revoke_failed": { attempts: number; failure_kind: "permanent" | "exhausted" | "stalled" };
  "credential.retry": NoDetails;
  "credential.resolved": { last_error: string; failure_kind: string };
  "credential.unrecorded": { outcome: "revoked" | "revoking"; provider: string };
  "revocation.started": {
    revocation_id: string;
    selector: Record<string, string | boolean>;
    dry_run: boolean;
    tasks: number;
    credentials: number;
  };
  "policy.reloaded": { ok: true; policy_set_hash: string } | { ok: false; error: string };
  "keys.rotated": { kid: string };
  "approval.requested": ApprovalDetails;
  "approval.approved": ApprovalDetails;
  "approval.denied": ApprovalDetails;
  "approval.expired": ApprovalDetails;
  "approval.cancelled": ApprovalDetails;
  "approval.redeemed": ApprovalDetails;
  /** One `GET /v1/approvals`: how many it returned and examined (no decision is recorded per item). */
  "approvals.listed": { returned: number; examined: number };
  /**
   * A human signed in to the web console (the actor). `session_ref` (16 hex digits of the SHA-256 of the
   * session's hash) ties the sign-in to its end, and reveals nothing about the cookie.
   */
  "console.signed_in": { session_ref: string; absolute_timeout_seconds: number };
  /** The session ended: signed out, or found idle or past its absolute timeout. */
  "console.signed_out": { session_ref: string; reason: "sign_out" | "idle" | "absolute" };
  /**
   * A verified SET from a configured IdP transmitter (docs/signals.md): its event type, its `jti`, the
   * initiator identifiers its subject named, and the emergency revocations it started (none for an event
   * the broker does not act on).
   */
  "signal.received": {
    transmitter: string;
    jti: string;
    event: string;
    initiators: string[];
    revocations: string[];
  };
  /** A SET refused at the receiver endpoint: the RFC 8935 error code answered, and why. */
  "signal.rejected": { transmitter: string | null; err: string; description: string };
};

/** Fields every event has besides its type and details. */
interface EventEnvelope {
  /** Principal id, or `system:<component>` for the worker. Null when the caller could not be identified. */
  actor: string | null;
  task_id?: string | null;
  credential_id?: string | null;
  decision?: AuditDecision;
  reason?: string | null;
}

/**
 * An event as a caller records it, typed by its `type`. Only ids, names, times and keyed hashes: never a
 * token, password, key or any other secret (a test greps the stream for every issued secret).
 */
export type AuditEventInput = {
  [T in AuditEventType]: EventEnvelope & { type: T; details?: AuditDetailsByType[T] };
}[AuditEventType];

/** A stored event's common fields: chained by `hash = SHA-256(prev_hash ‖ canonical JSON without hash)`. */
interface StoredEnvelope {
  seq: number;
  time: string;
  actor: string | null;
  task_id: string | null;
  credential_id: string | null;
  decision: AuditDecision | null;
  reason: string | null;
  prev_hash: string;
  hash: string;
}

/**
 * A stored event, typed by its `type`. Details are read as optional: events written by older versions
 * may lack a field, and readers must say so rather than assume it.
 */
export type AuditEvent = {
  [T in AuditEventType]: StoredEnvelope & { type: T; details: Partial<AuditDetailsByType[T]> };
}[AuditEventType];

export const GENESIS_HASH = "0".repeat(64);
