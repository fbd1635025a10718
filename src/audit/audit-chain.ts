import { createHash } from "node:crypto";
import type { AuditEvent, AuditEventInput } from "./audit-types.js";
import { canonicalJson, type JsonValue } from "./canonical-json.js";

/** The chain head: the last event's sequence number and hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export type UnhashedEvent = AuditEvent extends infer E
  ? E extends AuditEvent
    ? Omit<E, "hash">
    : never
  : never;

/** `hash = SHA-256(prev_hash ‖ canonical JSON of the event without its hash)`, hex. */
export function hashEvent(event: UnhashedEvent | AuditEvent): string {
  const { hash: _ignored, ...hashed } = eventJson(event);
  return createHash("sha256").update(event.prev_hash).update(canonicalJson(hashed)).digest("hex");
}

/** The event as a JSON value, field by field (the hashed form leaves `hash` out). */
export function eventJson(event: UnhashedEvent | AuditEvent): { [key: string]: JsonValue } {
  const json: { [key: string]: JsonValue } = {
    seq: event.seq,
    time: event.time,
    type: event.type,
    actor: event.actor,
    task_id: event.task_id,
    credential_id: event.credential_id,
    decision: event.decision ? { ...event.decision } : null,
    reason: event.reason,
    // Every shape in AuditDetailsByType is made of JSON values only; the map's types cannot say so to TS.
    details: event.details as { [key: string]: JsonValue },
    prev_hash: event.prev_hash,
  };
  if ("hash" in event) json.hash = event.hash;
  return json;
}

export function formatHead(head: ChainHead | null): string {
  return head ? `${head.seq} ${head.hash}` : "";
}

export function parseHead(raw: string | null): ChainHead | null {
  if (!raw || raw === "empty") return null;
  const [seq, hash] = raw.split(" ");
  if (!seq || !hash) throw new Error(`corrupt audit head: ${raw.slice(0, 80)}`);
  return { seq: Number(seq), hash };
}

/** Links an input to the chain after `prev`: the stored event, with its sequence number and hash. */
export function chainEvent(input: AuditEventInput, prev: ChainHead, time: string): AuditEvent {
  // The spread keeps `type` and `details` together, but TS cannot follow that through a union: asserted once.
  const unhashed = {
    seq: prev.seq + 1,
    time,
    type: input.type,
    actor: input.actor,
    task_id: input.task_id ?? null,
    credential_id: input.credential_id ?? null,
    decision: input.decision ?? null,
    reason: input.reason ?? null,
    details: input.details ?? {},
    prev_hash: prev.hash,
  } as UnhashedEvent;
  return { ...unhashed, hash: hashEvent(unhashed) } as AuditEvent;
}
