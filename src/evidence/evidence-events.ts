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

type ApprovalEvent = Extract<AuditEvent, { type: `approval.${string}` }>;

const isApprovalEvent = (event: AuditEvent): event is ApprovalEvent => event.type.startsWith("approval.");

/** Folds one `approval.*` event into its approval's entry. */
function foldApproval(entry: ApprovalEntry, event: ApprovalEvent): void {
  const { details } = event;
  entry.credential_id = event.credential_id ?? entry.credential_id;
  entry.profile ??= text(details.profile);
  switch (event.type) {
    case "approval.requested":
      entry.requested = { by: event.actor, at: event.time, seq: event.seq };
      return;
    case "approval.approved":
    case "approval.denied": {
      const outcome = event.type === "approval.approved" ? "approved" : "denied";
      entry.outcome = outcome;
      const by = text(details.approver) ?? event.actor;
      entry.decided = { by, at: event.time, seq: event.seq, outcome, comment: text(details.comment) };
      return;
    }
    case "approval.expired":
    case "approval.cancelled":
    case "approval.redeemed": {
      const outcome = event.type.slice("approval.".length) as "expired" | "cancelled" | "redeemed";
      entry.outcome = outcome;
      const reason = event.reason ?? text(details.reason);
      entry.ended = { by: event.actor, at: event.time, seq: event.seq, outcome, reason };
      return;
    }
    default:
      unreachable(event);
  }
}

/** Makes a switch exhaustive: a new event type that no case handles does not compile. */
function unreachable(event: never): never {
  throw new Error(`unhandled audit event ${JSON.stringify(event)}`);
}

/**
 * Approvals, folded from `approval.*` events (details `{approval_id, approver, comment, ...}`), in the order
 * they were requested. Events without an approval id stand alone. Empty when the tree has none.
 */
export function approvalsOf(events: readonly AuditEvent[]): ApprovalEntry[] {
  const byId = new Map<string, ApprovalEntry>();
  for (const event of events) {
    if (!isApprovalEvent(event)) continue;
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

/** One readable line for an approval event. */
function summariseApproval(event: ApprovalEvent, who: string, why: string, credential: string): string {
  const id = text(event.details.approval_id) ?? "?";
  switch (event.type) {
    case "approval.requested":
      return `${who} asked for approval ${id} (profile ${text(event.details.profile) ?? "?"})`;
    case "approval.approved":
    case "approval.denied": {
      const comment = text(event.details.comment);
      const verb = event.type.slice("approval.".length);
      return `${text(event.details.approver) ?? who} ${verb} ${id}${comment ? `: “${comment}”` : ""}`;
    }
    case "approval.expired":
      return `approval ${id} expired undecided`;
    case "approval.cancelled":
      return `approval ${id} cancelled${why}`;
    case "approval.redeemed":
      return `${who} redeemed approval ${id} for ${credential}`;
    default:
      return unreachable(event);
  }
}

/** One readable line for an event: what happened, to what, and why. */
export function summarise(event: AuditEvent): string {
  const who = event.actor ?? "unidentified caller";
  const why = event.reason ? ` (${event.reason})` : "";
  const credential = event.credential_id ?? "a credential";
  if (isApprovalEvent(event)) return summariseApproval(event, who, why, credential);
  switch (event.type) {
    case "decision": {
      const d = event.decision;
      if (!d) return `decision for ${who}`;
      return `${d.action} by ${who}: ${d.effect} (policies: ${list(d.policy_ids)})`;
    }
    case "assertion.rejected":
      return `a workload assertion was rejected${why}`;
    case "assertion.rejections":
      return `${event.details.count ?? "?"} assertions from ${text(event.details.issuer) ?? "?"} were rejected${why}`;
    case "task.opened": {
      const parent = text(event.details.parent_task_id);
      const agent = text(event.details.agent) ?? "?";
      return parent
        ? `${who} delegated this task from ${parent} to agent ${agent}`
        : `${who} opened the task for agent ${agent}`;
    }
    case "task.closing": {
      const { note, revocation_id: revocation } = event.details;
      const by = revocation ? ` under emergency revocation ${revocation}` : "";
      return `${who} began closing the task${why}${by}${note ? `: “${note}”` : ""}`;
    }
    case "task.closed":
      return "task closed: every credential settled";
    case "credential.issued": {
      const { profile, downstream_account: account } = event.details;
      return `${credential} issued to ${who} (profile ${text(profile) ?? "?"}, account ${text(account) ?? "?"})`;
    }
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
    case "revocation.started":
      return `${who} started emergency revocation ${text(event.details.revocation_id) ?? "?"}${why}`;
    case "policy.reloaded":
      return `the policy set was reloaded${event.details.ok === false ? " (failed)" : ""}`;
    case "approvals.listed":
      return `${who} listed approvals (${event.details.returned ?? "?"} returned)`;
    case "keys.rotated":
      return `the signing key was rotated to ${text(event.details.kid) ?? "?"}`;
    case "console.signed_in":
      return `${who} signed in to the console`;
    case "console.signed_out":
      return `${who}'s console session ended (${text(event.details.reason) ?? "?"})`;
    case "signal.received":
      return `a security event from ${text(event.details.transmitter) ?? "?"} was received${why}`;
    case "signal.rejected":
      return `a security event was refused (${text(event.details.err) ?? "?"})${why}`;
    default:
      return unreachable(event);
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
