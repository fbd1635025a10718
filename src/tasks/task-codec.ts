import { z } from "zod";
import type { Task } from "./task-types.js";

const jsonStringArray = z.string().transform((raw) => z.array(z.string()).parse(JSON.parse(raw)));
const optionalMs = z
  .string()
  .optional()
  .transform((raw) => (raw ? Number(raw) : null));

const storedTask = z.object({
  id: z.string(),
  state: z.enum(["open", "closing", "closed"]),
  owner: z.string(),
  agent: z.string(),
  initiator_subject: z.string(),
  initiator_verified: z.enum(["0", "1"]),
  intent: z.string(),
  labels: z.string().transform((raw) => z.record(z.string(), z.string()).parse(JSON.parse(raw))),
  parent_id: z.string(),
  root_id: z.string(),
  depth: z.coerce.number().int(),
  profiles: z.string().transform((raw) => (raw === "" ? null : z.array(z.string()).parse(JSON.parse(raw)))),
  created_at: z.coerce.number(),
  deadline: z.coerce.number(),
  closing_at: optionalMs,
  closed_at: optionalMs,
  close_reason: z.enum(["closed", "deadline", "revoked", "parent_closed"]).optional(),
  related: jsonStringArray,
  act_chain: jsonStringArray,
});

/** The Redis hash fields of a task record (strings only; no secrets). */
export function encodeTask(task: Task): Record<string, string> {
  const fields: Record<string, string> = {
    id: task.id,
    state: task.state,
    owner: task.owner,
    agent: task.agent,
    initiator_subject: task.initiator.subject,
    initiator_verified: task.initiator.verified ? "1" : "0",
    intent: task.intent,
    labels: JSON.stringify(task.labels),
    parent_id: task.parentId ?? "",
    root_id: task.rootId,
    depth: String(task.depth),
    profiles: task.profiles ? JSON.stringify(task.profiles) : "",
    created_at: String(task.createdAt),
    deadline: String(task.deadline),
    related: JSON.stringify(task.related),
    act_chain: JSON.stringify(task.actChain),
    /** Credentials not yet revoked, expired or failed; kept by the credential scripts. */
    unsettled: "0",
    /**
     * Credentials per state, kept by the credential scripts for the admin listing: `n_live` (pending or
     * active; its presence marks a task that has the counts) and `n_<state>` for the others, written when
     * first needed.
     */
    n_live: "0",
  };
  if (task.closingAt !== null) fields.closing_at = String(task.closingAt);
  if (task.closedAt !== null) fields.closed_at = String(task.closedAt);
  if (task.closeReason !== null) fields.close_reason = task.closeReason;
  return fields;
}

/** Parses a task hash; null for a missing record. */
export function decodeTask(fields: Record<string, string>): Task | null {
  if (!fields.id) return null;
  const raw = storedTask.parse(fields);
  return {
    id: raw.id,
    state: raw.state,
    owner: raw.owner,
    agent: raw.agent,
    initiator: { subject: raw.initiator_subject, verified: raw.initiator_verified === "1" },
    intent: raw.intent,
    labels: raw.labels,
    parentId: raw.parent_id === "" ? null : raw.parent_id,
    rootId: raw.root_id,
    depth: raw.depth,
    profiles: raw.profiles,
    createdAt: raw.created_at,
    deadline: raw.deadline,
    closingAt: raw.closing_at,
    closedAt: raw.closed_at,
    closeReason: raw.close_reason ?? null,
    related: raw.related,
    actChain: raw.act_chain,
  };
}
