import type { AuditEvent } from "../audit/audit-types.js";
import type { AccessEntry } from "./evidence-types.js";

/** The events of a task tree split into what happened in it and who read it. */
export interface SeparatedEvents {
  /** What happened in the tasks: their decisions, credentials, approvals and lifecycle. */
  own: AuditEvent[];
  /** Decisions that let someone read the tasks' evidence, records or audit events. */
  reads: Extract<AuditEvent, { type: "decision" }>[];
}

/**
 * Splits a tree's events so that reading a report never changes it: read decisions (`details.read`) go to
 * `accessed_by`, except approval views, which an approver's look at a request leaves nowhere in the report,
 * like approval listings (`approvals.listed`).
 */
export function separateReads(events: readonly AuditEvent[]): SeparatedEvents {
  const own: AuditEvent[] = [];
  const reads: SeparatedEvents["reads"] = [];
  for (const event of events) {
    if (event.type === "approvals.listed") continue;
    if (event.type !== "decision" || event.details.read === undefined) own.push(event);
    else if (event.details.read !== "approval") reads.push(event);
  }
  return { own, reads };
}

/** Who read the tree, when, under which action and with what effect, in chain order. */
export function accessesOf(reads: SeparatedEvents["reads"]): AccessEntry[] {
  return reads.flatMap((event) => {
    const { decision } = event;
    const read = event.details.read;
    if (!decision || read === undefined || read === "approval") return [];
    return [
      {
        seq: event.seq,
        time: event.time,
        actor: event.actor,
        task_id: event.task_id,
        read,
        action: decision.action,
        effect: decision.effect,
        policy_ids: decision.policy_ids,
      },
    ];
  });
}
