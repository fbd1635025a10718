import { hashEvent } from "./audit-chain.js";
import type { AuditEvent } from "./audit-types.js";
import { GENESIS_HASH } from "./audit-types.js";
import type { Checkpoint } from "./checkpoint-types.js";

export type VerifyResult =
  | { valid: true; events: number; checkpoints: number; first_seq: number | null; last_seq: number | null }
  | { valid: false; events: number; checkpoints: number; first_invalid: { seq: number; reason: string } };

export interface VerifyInput {
  events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>;
  /** The checkpoint kept at the retention trim point; the first event must link to it. */
  anchor: Checkpoint | null;
  checkpoints: Checkpoint[];
  /**
   * The chain head read after the checkpoints: events past it (appended during the walk) are not
   * examined, and the chain must reach it (catches truncation).
   */
  head?: { seq: number; hash: string } | null;
  /** Whether a checkpoint's signature holds. */
  checkSignature: (checkpoint: Checkpoint) => Promise<boolean>;
  /**
   * Where the walk starts instead of the anchor or genesis: the seq and hash the first examined event must
   * follow (a verification since a checkpoint starts just before the checkpoint's own event).
   */
  from?: { seq: number; hash: string };
  /** Called every `PROGRESS_EVERY` events with how many were examined and the last seq. */
  onProgress?: (events: number, lastSeq: number) => Promise<void>;
}

export const PROGRESS_EVERY = 10_000;

/** Why an event does not follow `prev`, or null if it does. */
function linkProblem(event: AuditEvent, prev: { seq: number; hash: string }): string | null {
  if (event.seq <= prev.seq) return `event out of order: seq ${event.seq} comes after seq ${prev.seq}`;
  if (event.seq > prev.seq + 1) return `events missing: expected seq ${prev.seq + 1}, found ${event.seq}`;
  if (event.prev_hash !== prev.hash)
    return `prev_hash does not match event ${prev.seq}: an event was edited, removed or reordered`;
  if (hashEvent(event) !== event.hash) return "hash does not match the event's content: the event was edited";
  return null;
}

/**
 * Walks the chain once: sequence continuity, `prev_hash` links, each event's own hash, every signed
 * checkpoint (signature, and the hash it pins), and the recorded head. Reports the first problem found.
 */
export async function verifyChain(input: VerifyInput): Promise<VerifyResult> {
  const checkpoints = [...input.checkpoints].sort((a, b) => a.seq - b.seq);
  const invalid = (seq: number, reason: string, events: number): VerifyResult => ({
    valid: false,
    events,
    checkpoints: checkpoints.length,
    first_invalid: { seq, reason },
  });
  for (const checkpoint of [...(input.anchor ? [input.anchor] : []), ...checkpoints]) {
    if (!(await input.checkSignature(checkpoint)))
      return invalid(checkpoint.seq, "checkpoint signature is invalid", 0);
  }
  const pinned = new Map(checkpoints.map((c) => [c.seq, c.hash]));
  let prev =
    input.from ??
    (input.anchor ? { seq: input.anchor.seq, hash: input.anchor.hash } : { seq: 0, hash: GENESIS_HASH });
  let count = 0;
  let first: number | null = null;
  for await (const event of input.events) {
    if (input.head && event.seq > input.head.seq && prev.seq >= input.head.seq) break;
    const problem = linkProblem(event, prev);
    if (problem) return invalid(event.seq, problem, count);
    const expected = pinned.get(event.seq);
    if (expected !== undefined && expected !== event.hash)
      return invalid(event.seq, "differs from the signed checkpoint", count);
    first ??= event.seq;
    prev = { seq: event.seq, hash: event.hash };
    count++;
    if (input.onProgress && count % PROGRESS_EVERY === 0) await input.onProgress(count, prev.seq);
  }
  const lastCheckpoint = checkpoints[checkpoints.length - 1];
  if (lastCheckpoint && lastCheckpoint.seq > prev.seq) {
    return invalid(
      prev.seq + 1,
      `events after seq ${prev.seq} are missing (a checkpoint covers seq ${lastCheckpoint.seq})`,
      count,
    );
  }
  if (input.head && (input.head.seq !== prev.seq || input.head.hash !== prev.hash)) {
    return invalid(
      prev.seq + 1,
      `the chain ends at seq ${prev.seq} but its head is seq ${input.head.seq}`,
      count,
    );
  }
  return {
    valid: true,
    events: count,
    checkpoints: checkpoints.length,
    first_seq: first,
    last_seq: count > 0 ? prev.seq : null,
  };
}
