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

/** The first checkpoint that signs `seq` (a checkpoint at seq S signs every event up to S), if any. */
function sealing(checkpoints: readonly Checkpoint[], seq: number): Checkpoint | null {
  return checkpoints.filter((c) => c.seq >= seq).sort((a, b) => a.seq - b.seq)[0] ?? null;
}

/**
 * Verifies the chain as `GET /v1/audit/verify` does, from its start up to the first checkpoint that signs
 * `lastCitedSeq` (with that checkpoint and the ones before it), or, while none does yet, up to the head
 * read at the start: checkpoints are read before the head so none can point past it. Stopping at the
 * sealing checkpoint keeps a settled task's report the same however many events are appended after it.
 */
export async function verifyWholeChain(
  sources: ChainSources,
  lastCitedSeq?: number,
): Promise<{ result: ChainEvidence["whole_chain"]; checkpoints: Checkpoint[] }> {
  const anchor = await sources.checkpoints.anchor();
  const listed = await sources.checkpoints.list();
  const head = await sources.audit.head();
  const seal = lastCitedSeq === undefined ? null : sealing(listed, lastCitedSeq);
  const end = seal ? { seq: seal.seq, hash: seal.hash } : head;
  const checkpoints = seal ? listed.filter((c) => c.seq <= seal.seq) : listed;
  const result = await verifyChain({
    events: upTo(sources.audit.all(), end?.seq ?? 0),
    anchor,
    checkpoints,
    head: end,
    checkSignature: sources.checkpoints.checkSignature,
  });
  return { result, checkpoints };
}

/** Both checks for the events a report cites, and which of them a signed checkpoint covers. */
export async function chainEvidence(
  sources: ChainSources,
  cited: readonly AuditEvent[],
): Promise<ChainEvidence> {
  const lastCited = cited.reduce<number | undefined>((max, e) => Math.max(max ?? e.seq, e.seq), undefined);
  const whole = await verifyWholeChain(sources, lastCited);
  const latest = latestCheckpoint(whole.checkpoints);
  const signature = latest ? await sources.checkpoints.checkSignature(latest) : false;
  return {
    cited: verifyCited(cited),
    whole_chain: whole.result,
    checkpoints: checkpointCoverage(cited, latest, { signature, chain: whole.result.valid }),
  };
}
