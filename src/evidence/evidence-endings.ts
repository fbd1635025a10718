import type { AuditEvent } from "../audit/audit-types.js";
import type { Credential } from "../credentials/credential-types.js";
import { toIso } from "../shared/clock.js";
import type { CloseReason, Task } from "../tasks/task-types.js";
import type { CredentialEndPath, CredentialEntry, TaskEnding, TaskEndPath } from "./evidence-types.js";

const PATHS: Record<CloseReason, TaskEndPath> = {
  closed: "close",
  deadline: "deadline",
  parent_closed: "parent_closed",
  revoked: "emergency",
};

type ClosingEvent = Extract<AuditEvent, { type: "task.closing" }>;

const isClosingOf =
  (taskId: string) =>
  (event: AuditEvent): event is ClosingEvent =>
    event.type === "task.closing" && event.task_id === taskId;

/** The emergency revocation a `task.closing` event names, if it names one. */
function revocationOf(event: ClosingEvent): TaskEnding["revocation"] {
  const { revocation_id: id, selector, revocation_seq: seq, note } = event.details;
  if (!id) return null;
  return {
    revocation_id: id,
    selector: selector ?? null,
    reason: note ?? null,
    operator: event.actor,
    started_seq: seq ?? null,
  };
}

/**
 * How `task` ended, from its `task.closing` event among `events` (the covered tasks' own events), or from
 * its record alone for an ancestor. Null while the task is open.
 */
export function taskEnding(task: Task, events: readonly AuditEvent[]): TaskEnding | null {
  if (task.closeReason === null) return null;
  const closing = events.find(isClosingOf(task.id));
  const at = task.closingAt ?? task.closedAt;
  return {
    path: PATHS[task.closeReason],
    at: closing?.time ?? (at === null ? toIso(task.createdAt) : toIso(at)),
    by: closing?.actor ?? null,
    seq: closing?.seq ?? null,
    note: closing?.details.note ?? null,
    revocation: closing ? revocationOf(closing) : null,
  };
}

/** The path behind a credential's `revoke_reason`: a close reason, or the broker's own. */
function pathOf(revokeReason: string | null): CredentialEndPath | null {
  if (revokeReason === null) return null;
  return revokeReason in PATHS ? PATHS[revokeReason as CloseReason] : "broker";
}

const SETTLED = {
  "credential.revoked": "revoked",
  "credential.expired": "expired",
  "credential.revoke_failed": "revoke_failed",
  "credential.resolved": "resolved",
} as const;

type SettlingType = keyof typeof SETTLED;

const isSettling = (event: AuditEvent): event is Extract<AuditEvent, { type: SettlingType }> =>
  event.type in SETTLED;

/** What the provider reported with `credential.revoked`, without empty values; null when it said nothing. */
function confirmationOf(events: readonly AuditEvent[]): CredentialEntry["revocation"]["confirmation"] {
  const revoked = events.find((event) => event.type === "credential.revoked");
  if (!revoked || revoked.type !== "credential.revoked") return null;
  const entries = Object.entries(revoked.details).flatMap(([key, value]) =>
    value === undefined ? [] : [[key, value] as const],
  );
  return entries.length > 0 ? Object.fromEntries(entries) : null;
}

/**
 * How a credential ended: why its revocation was asked for and by whom, the event that settled it, and
 * what the provider confirmed. `own` holds the credential's events in chain order; `ending` is its task's.
 */
export function credentialEnding(
  credential: Credential,
  own: readonly AuditEvent[],
  ending: TaskEnding | null,
): Pick<CredentialEntry["revocation"], "path" | "revocation_id" | "requested" | "settled" | "confirmation"> {
  const path = pathOf(credential.revokeReason);
  const requested = own.find((event) => event.type === "credential.revoking");
  const settling = own.filter(isSettling).at(-1);
  const underEmergency = path === "emergency" || path === "parent_closed";
  return {
    path,
    revocation_id: underEmergency ? (ending?.revocation?.revocation_id ?? null) : null,
    requested: requested ? { by: requested.actor, at: requested.time, seq: requested.seq } : null,
    settled: settling
      ? { event: SETTLED[settling.type], by: settling.actor, at: settling.time, seq: settling.seq }
      : null,
    confirmation: confirmationOf(own),
  };
}
