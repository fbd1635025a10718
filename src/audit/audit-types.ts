import type { JsonValue } from "./canonical-json.js";

/** What happened. Names are `<subject>.<verb>`; new ones may be added, none renamed. */
export const AUDIT_EVENT_TYPES = [
  "assertion.rejected",
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
 * An event as a caller records it. Only ids, names, times and keyed hashes: never a token, password,
 * key or any other secret (a test greps the stream for every issued secret).
 */
export interface AuditEventInput {
  type: AuditEventType;
  /** Principal id, or `system:<component>` for the worker. Null when the caller could not be identified. */
  actor: string | null;
  task_id?: string | null;
  credential_id?: string | null;
  decision?: AuditDecision;
  reason?: string | null;
  details?: Record<string, JsonValue>;
}

/** A stored event: chained by `hash = SHA-256(prev_hash ‖ canonical JSON of the event without hash)`. */
export interface AuditEvent {
  seq: number;
  time: string;
  type: AuditEventType;
  actor: string | null;
  task_id: string | null;
  credential_id: string | null;
  decision: AuditDecision | null;
  reason: string | null;
  details: Record<string, JsonValue>;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = "0".repeat(64);
