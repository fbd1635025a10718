import { z } from "zod";
import { AUDIT_EVENT_TYPES, type AuditEvent } from "./audit-types.js";
import type { JsonValue } from "./canonical-json.js";

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

const storedEventSchema = z.object({
  seq: z.number().int().positive(),
  time: z.string(),
  type: z.enum(AUDIT_EVENT_TYPES),
  actor: z.string().nullable(),
  task_id: z.string().nullable(),
  credential_id: z.string().nullable(),
  decision: z
    .object({
      action: z.string(),
      effect: z.enum(["allow", "deny", "approval_required"]),
      policy_ids: z.array(z.string()),
      policy_set_hash: z.string(),
    })
    .nullable(),
  reason: z.string().nullable(),
  details: z.record(z.string(), jsonValue),
  prev_hash: z.string(),
  hash: z.string(),
});

/** Parses a stream entry's field list (`["e", json]`) back into an event. */
export function parseStoredEvent(fields: string[]): AuditEvent {
  const index = fields.indexOf("e");
  const raw = index >= 0 ? fields[index + 1] : undefined;
  if (raw === undefined) throw new Error("audit stream entry without an event");
  // The schema checks the envelope; details are read as optional by type (see AuditEvent), so the parsed
  // record stands for its type's details without a per-type schema.
  return storedEventSchema.parse(JSON.parse(raw)) as AuditEvent;
}

const xrangeReply = z.array(z.tuple([z.string(), z.array(z.string())]));

/** Parses an XRANGE reply as returned inside a pipeline (typed `unknown` there). */
export function parseXrange(value: unknown): [string, string[]][] {
  return xrangeReply.parse(value);
}
