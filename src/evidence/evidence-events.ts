import type { AuditEvent } from "../audit/audit-types.js";
import type { JsonValue } from "../audit/canonical-json.js";
import type { ApprovalEntry, DecisionEntry, TimelineEntry } from "./evidence-types.js";

const text = (value: JsonValue | undefined): string | null =>
  typeof value === "string" && value.length > 0 ? value : null;

/** Decisions, from `decision` events, in chain order. */
export function decisionsOf(events: readonly AuditEvent[]): DecisionEntry[] {
  return events.flatMap((event) =>
    event.type === "decision" && event.decision
      ? [
          {
            seq: event.seq,
            time: event.time,
            actor: event.actor,
            task_id: event.task_id,
            credential_id: event.credential_id,
            action: event.decision.action,
            effect: event.decision.effect,
            policy_ids: event.decision.policy_ids,
            policy_set_hash: event.decision.policy_set_hash,
          },
        ]
      : [],
  );
}

const DECISIONS: Record<string, "approved" | "denied"> = {
  "approval.approved": "approved",
  "approval.denied": "denied",
};
const ENDINGS: Record<string, "expired" | "cancelled" | "redeemed"> = {
  "approval.expired": "expired",
  "approval.cancelled": "cancelled",
  "approval.redeemed": "redeemed",
};

/** Folds one `approval.*` event into its approval's entry. */
function foldApproval(entry: ApprovalEntry, event: AuditEvent): void {
  const type: string = event.type;
  entry.credential_id = event.credential_id ?? entry.credential_id;
  entry.profile ??= text(event.details.profile);
  if (type === "approval.requested") {
    entry.requested = { by: event.actor, at: event.time, seq: event.seq };
  }
  const decided = DECISIONS[type];
  if (decided) {
    entry.outcome = decided;
    entry.decided = {
      by: text(event.details.approver) ?? event.actor,
      at: event.time,
      seq: event.seq,
      outcome: decided,
      comment: text(event.details.comment),
    };
  }
  const ended = ENDINGS[type];
  if (ended) {
    entry.outcome = ended;
    entry.ended = {
      by: event.actor,
      at: event.time,
      seq: event.seq,
      outcome: ended,
      reason: event.reason ?? text(event.details.reason),
    };
  }
}

/**
 * Approvals, folded from `approval.*` events (details `{approval_id, approver, comment, ...}`), in the order
 * they were requested. Events without an approval id stand alone. Empty when the tree has none.
 */
export function approvalsOf(events: readonly AuditEvent[]): ApprovalEntry[] {
  const byId = new Map<string, ApprovalEntry>();
  for (const event of events) {
    if (!event.type.startsWith("approval.")) continue;
    const id = text(event.details.approval_id) ?? `seq:${event.seq}`;
    const entry: ApprovalEntry = byId.get(id) ?? {
      approval_id: id,
      task_id: event.task_id,
      credential_id: null,
      profile: null,
      outcome: "pending",
      requested: null,
      decided: null,
      ended: null,
    };
    foldApproval(entry, event);
    byId.set(id, entry);
  }
  return [...byId.values()];
}

const list = (value: string[]): string => (value.length > 0 ? value.join(", ") : "none");

/** One readable line for an event: what happened, to what, and why. */
export function summarise(event: AuditEvent): string {
  const who = event.actor ?? "unidentified caller";
  const why = event.reason ? ` (${event.reason})` : "";
  const credential = event.credential_id ?? "a credential";
  const detail = (key: string) => text(event.details[key]);
  const type: string = event.type;
  switch (type) {
    case "decision": {
      const d = event.decision;
      if (!d) return `decision for ${who}`;
      return `${d.action} by ${who}: ${d.effect} (policies: ${list(d.policy_ids)})`;
    }
    case "task.opened": {
      const parent = detail("parent_task_id");
      const agent = detail("agent") ?? "?";
      return parent
        ? `${who} delegated this task from ${parent} to agent ${agent}`
        : `${who} opened the task for agent ${agent}`;
    }
    case "task.closing":
      return `${who} began closing the task${why}`;
    case "task.closed":
      return "task closed: every credential settled";
    case "credential.issued":
      return `${credential} issued to ${who} (profile ${detail("profile") ?? "?"}, account ${detail("downstream_account") ?? "?"})`;
    case "credential.issue_failed":
      return `issuing ${credential} failed${why}`;
    case "credential.revoking":
      return `revocation of ${credential} requested by ${who}${why}`;
    case "credential.revoked":
      return `${credential} revoked${why}`;
    case "credential.expired":
      return `${credential} expired`;
    case "credential.revoke_failed":
      return `revoking ${credential} failed${why}`;
    case "credential.resolved":
      return `${who} resolved ${credential} by hand${why}`;
    case "credential.unrecorded":
      return `${credential} was issued while the store was failing; the broker revoked it at once${why}`;
    case "credential.retry":
      return `${who} retried revoking ${credential}`;
    case "approval.requested":
      return `${who} asked for approval ${detail("approval_id") ?? "?"} (profile ${detail("profile") ?? "?"})`;
    case "approval.approved":
    case "approval.denied": {
      const comment = detail("comment");
      return `${detail("approver") ?? who} ${type.slice("approval.".length)} ${detail("approval_id") ?? "?"}${comment ? `: “${comment}”` : ""}`;
    }
    case "approval.expired":
      return `approval ${detail("approval_id") ?? "?"} expired undecided`;
    case "approval.cancelled":
      return `approval ${detail("approval_id") ?? "?"} cancelled${why}`;
    case "approval.redeemed":
      return `${who} redeemed approval ${detail("approval_id") ?? "?"} for ${credential}`;
    default:
      return `${type} by ${who}${why}`;
  }
}

/** Every event, summarised, in chain order. */
export function timelineOf(events: readonly AuditEvent[]): TimelineEntry[] {
  return events.map((event) => ({
    seq: event.seq,
    time: event.time,
    type: event.type,
    actor: event.actor,
    task_id: event.task_id,
    credential_id: event.credential_id,
    summary: summarise(event),
    hash: event.hash,
  }));
}
