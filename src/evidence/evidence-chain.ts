import { hashEvent } from "../audit/audit-chain.js";
import type { AuditCheckpoints } from "../audit/audit-checkpoints.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { AuditEvent } from "../audit/audit-types.js";
import { verifyChain } from "../audit/audit-verify.js";
import type { Checkpoint } from "../audit/checkpoint-types.js";
import { checkpointCoverage, latestCheckpoint } from "./checkpoint-coverage.js";
import type { ChainEvidence } from "./evidence-types.js";

/** Where the chain and its signed checkpoints are read from. */
export interface ChainSources {
  audit: Pick<AuditLog, "all" | "head">;
  checkpoints: Pick<AuditCheckpoints, "anchor" | "list" | "checkSignature">;
}

/**
 * Checks the events a report cites on their own: each event's hash over its content, and the `prev_hash`
 * link between cited events whose seqs are consecutive (events in between belong to other tasks and are
 * covered by the whole-chain walk).
 */
export function verifyCited(events: readonly AuditEvent[]): ChainEvidence["cited"] {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  const problems: { seq: number; reason: string }[] = [];
  let links = 0;
  for (const [i, event] of sorted.entries()) {
    if (hashEvent(event) !== event.hash) {
      problems.push({
        seq: event.seq,
        reason: "hash does not match the event's content: the event was edited",
      });
    }
    const prev = sorted[i - 1];
    if (!prev) continue;
    if (prev.seq === event.seq) {
      problems.push({ seq: event.seq, reason: "two cited events share this seq" });
    } else if (prev.seq + 1 === event.seq) {
      links++;
      if (event.prev_hash !== prev.hash) {
        problems.push({ seq: event.seq, reason: `prev_hash does not match event ${prev.seq}` });
      }
    }
  }
  return { valid: problems.length === 0, events: sorted.length, links_checked: links, problems };
}

/** Stops at `lastSeq`, so events appended while the walk runs are not mistaken for a moved head. */
async function* upTo(events: AsyncIterable<AuditEvent>, lastSeq: number): AsyncIterable<AuditEvent> {
  for await (const event of events) {
    if (event.seq > lastSeq) return;
    yield event;
  }
}

/**
 * Verifies the whole chain as `GET /v1/audit/verify` does, up to the head read at the start: checkpoints
 * are read before the head so none can point past it.
 */
export async function verifyWholeChain(
  sources: ChainSources,
): Promise<{ result: ChainEvidence["whole_chain"]; checkpoints: Checkpoint[] }> {
  const anchor = await sources.checkpoints.anchor();
  const checkpoints = await sources.checkpoints.list();
  const head = await sources.audit.head();
  const result = await verifyChain({
    events: upTo(sources.audit.all(), head?.seq ?? 0),
    anchor,
    checkpoints,
    head,
    checkSignature: sources.checkpoints.checkSignature,
  });
  return { result, checkpoints };
}

/** Both checks for the events a report cites, and which of them a signed checkpoint covers. */
export async function chainEvidence(
  sources: ChainSources,
  cited: readonly AuditEvent[],
): Promise<ChainEvidence> {
  const whole = await verifyWholeChain(sources);
  const latest = latestCheckpoint(whole.checkpoints);
  const signature = latest ? await sources.checkpoints.checkSignature(latest) : false;
  return {
    cited: verifyCited(cited),
    whole_chain: whole.result,
    checkpoints: checkpointCoverage(cited, latest, { signature, chain: whole.result.valid }),
  };
}
