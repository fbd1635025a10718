import { createDocumentSigner } from "../../providers/signer/document-signer.js";
import type { PublicSignerJwk } from "../../providers/signer/signer-keys.js";
import { hashEvent } from "../audit/audit-chain.js";
import type { AuditEvent } from "../audit/audit-types.js";
import { verifyChain } from "../audit/audit-verify.js";
import { CHECKPOINT_TYP, type Checkpoint, checkpointStatement } from "../audit/checkpoint-types.js";
import { ExportFormatError, type OpenedExport } from "./audit-export-file.js";

/**
 * How much of the chain an export lets us check: `complete` from genesis (or the retention anchor) to its
 * last event; `suffix` from its first event on (a `--since` export: the link to earlier events is taken on
 * trust); `per_event` each event's own hash only (a `--task` export: continuity cannot be checked).
 */
export type Coverage = "complete" | "suffix" | "per_event";

/** The offline counterpart of `GET /v1/audit/verify`, with where in the file a problem is. */
export type OfflineVerifyResult =
  | {
      valid: true;
      coverage: Coverage;
      events: number;
      checkpoints: number;
      first_seq: number | null;
      last_seq: number | null;
      /** The last event pinned by a signed checkpoint; later events are chained but not signed. */
      signed_through_seq: number | null;
      /** Key ids whose signatures were checked. */
      kids: string[];
    }
  | {
      valid: false;
      coverage: Coverage;
      events: number;
      checkpoints: number;
      first_invalid: { seq: number | null; line: number | null; reason: string };
    };

/** A signer that only verifies, with the public key embedded in each checkpoint. */
const offlineSigner = createDocumentSigner({
  current: () => Promise.reject(new Error("the offline verifier cannot sign")),
  publicJwks: () => Promise.reject(new Error("the offline verifier has no key ring")),
});

/**
 * A checkpoint's signature holds for its own seq, hash and time under its embedded key; with `trustedKeys`
 * (the broker's JWKS), that key must also be one the broker published under the same kid.
 */
async function checkpointProblem(
  checkpoint: Checkpoint,
  trustedKeys: PublicSignerJwk[] | null,
): Promise<string | null> {
  const payload = await offlineSigner.verify(checkpoint, CHECKPOINT_TYP);
  if (payload === null || payload !== checkpointStatement(checkpoint))
    return "checkpoint signature is invalid";
  if (!trustedKeys) return null;
  const trusted = trustedKeys.find((key) => key.kid === checkpoint.kid);
  if (!trusted) return `checkpoint signed by key ${checkpoint.kid}, which is not in the trusted JWKS`;
  if (trusted.x !== checkpoint.public_jwk.x || trusted.y !== checkpoint.public_jwk.y)
    return `checkpoint key ${checkpoint.kid} differs from the trusted JWKS key of that kid`;
  return null;
}

/** Stands in for a signature where a `--since` export starts: never checked, since nothing signed it. */
const UNSIGNED_KEY: PublicSignerJwk = {
  kty: "OKP",
  crv: "Ed25519",
  x: "",
  kid: "unsigned-export-start",
  alg: "EdDSA",
  use: "sig",
};

/** The starting point of a `--since` export: its first event's own `prev_hash`, taken on trust. */
const suffixStart = (first: AuditEvent): Checkpoint => ({
  seq: first.seq - 1,
  hash: first.prev_hash,
  time: first.time,
  kid: UNSIGNED_KEY.kid,
  jws: "",
  public_jwk: UNSIGNED_KEY,
});

function coverageOf(opened: OpenedExport): Coverage {
  const { header, anchor, firstEvent } = opened;
  if (header.filter.task_id) return "per_event";
  const chainStart = (anchor?.checkpoint.seq ?? 0) + 1;
  return header.filter.since && firstEvent && firstEvent.seq > chainStart ? "suffix" : "complete";
}

/** Where the verifier is in the file, so a problem can name its line. */
interface Position {
  seq: number | null;
  line: number | null;
}

async function* tracked(opened: OpenedExport, position: Position): AsyncIterable<AuditEvent> {
  for await (const { event, line } of opened.events) {
    position.seq = event.seq;
    position.line = line;
    yield event;
  }
}

type Outcome =
  | { ok: true; events: number; first_seq: number | null; last_seq: number | null }
  | { ok: false; events: number; seq: number | null; reason: string };

/** A `--task` export: each event's own hash, ascending order, and any checkpoint pinning one of them. */
async function verifyEachEvent(
  events: AsyncIterable<AuditEvent>,
  checkpoints: Checkpoint[],
): Promise<Outcome> {
  const pinned = new Map(checkpoints.map((c) => [c.seq, c.hash]));
  let previous = 0;
  let first: number | null = null;
  let count = 0;
  for await (const event of events) {
    const fail = (reason: string): Outcome => ({ ok: false, events: count, seq: event.seq, reason });
    if (event.seq <= previous)
      return fail(`event out of order: seq ${event.seq} comes after seq ${previous}`);
    if (hashEvent(event) !== event.hash)
      return fail("hash does not match the event's content: the event was edited");
    const expected = pinned.get(event.seq);
    if (expected !== undefined && expected !== event.hash) return fail("differs from the signed checkpoint");
    first ??= event.seq;
    previous = event.seq;
    count++;
  }
  return { ok: true, events: count, first_seq: first, last_seq: first === null ? null : previous };
}

/** A whole or `--since` export: the chain walk of `GET /v1/audit/verify` (signatures already checked). */
async function verifyLinks(
  opened: OpenedExport,
  events: AsyncIterable<AuditEvent>,
  coverage: Coverage,
): Promise<Outcome> {
  const start = coverage === "suffix" && opened.firstEvent ? suffixStart(opened.firstEvent) : null;
  const result = await verifyChain({
    events,
    anchor: start ?? opened.anchor?.checkpoint ?? null,
    checkpoints: opened.checkpoints.map((c) => c.checkpoint),
    checkSignature: async () => true,
  });
  return result.valid
    ? { ok: true, events: result.events, first_seq: result.first_seq, last_seq: result.last_seq }
    : {
        ok: false,
        events: result.events,
        seq: result.first_invalid.seq,
        reason: result.first_invalid.reason,
      };
}

/** Verifies an opened export: checkpoint signatures first, then the events as far as the export allows. */
export async function verifyExport(
  opened: OpenedExport,
  options: { trustedKeys: PublicSignerJwk[] | null },
): Promise<OfflineVerifyResult> {
  const coverage = coverageOf(opened);
  const signed = [...(opened.anchor ? [opened.anchor] : []), ...opened.checkpoints];
  const invalid = (
    events: number,
    seq: number | null,
    line: number | null,
    reason: string,
  ): OfflineVerifyResult => ({
    valid: false,
    coverage,
    events,
    checkpoints: opened.checkpoints.length,
    first_invalid: { seq, line, reason },
  });
  const position: Position = { seq: null, line: null };
  try {
    for (const { checkpoint, line } of signed) {
      const problem = await checkpointProblem(checkpoint, options.trustedKeys);
      if (problem) return invalid(0, checkpoint.seq, line, problem);
    }
    const events = tracked(opened, position);
    const outcome =
      coverage === "per_event"
        ? await verifyEachEvent(
            events,
            opened.checkpoints.map((c) => c.checkpoint),
          )
        : await verifyLinks(opened, events, coverage);
    if (!outcome.ok)
      return invalid(
        outcome.events,
        outcome.seq,
        position.seq === outcome.seq ? position.line : null,
        outcome.reason,
      );
    const lastSeq = outcome.last_seq;
    const pinnedSeqs = signed
      .map((c) => c.checkpoint.seq)
      .filter((seq) => lastSeq !== null && seq <= lastSeq);
    return {
      valid: true,
      coverage,
      events: outcome.events,
      checkpoints: opened.checkpoints.length,
      first_seq: outcome.first_seq,
      last_seq: lastSeq,
      signed_through_seq:
        coverage === "per_event" || pinnedSeqs.length === 0 ? null : Math.max(...pinnedSeqs),
      kids: [...new Set(signed.map((c) => c.checkpoint.kid))],
    };
  } catch (err) {
    if (err instanceof ExportFormatError) return invalid(0, null, err.line, err.message);
    throw err;
  } finally {
    opened.close();
  }
}
