import type { AuditEvent } from "../audit/audit-types.js";
import type { Checkpoint } from "../audit/checkpoint-types.js";
import type { CheckpointCoverage } from "./evidence-types.js";

/** How an auditor checks the covered events without trusting the broker (see docs/operators.md). */
const VERIFY_OFFLINE =
  "Export the chain with `credbroker audit export --out audit.jsonl` and run " +
  "`credbroker audit verify --file audit.jsonl --jwks <broker>/.well-known/jwks.json`: it checks every " +
  "checkpoint signature against the broker's published keys and every event up to the newest checkpoint; " +
  "then find each timeline[].hash of this report in the export at its seq.";

/** The newest of the checkpoints, or null. */
export const latestCheckpoint = (checkpoints: readonly Checkpoint[]): Checkpoint | null =>
  checkpoints.reduce<Checkpoint | null>((best, c) => (best === null || c.seq > best.seq ? c : best), null);

/**
 * Which cited events `latest` covers. It covers nothing unless its signature holds and the whole chain
 * verified, since only then is each earlier event linked to the signed hash.
 */
export function checkpointCoverage(
  cited: readonly AuditEvent[],
  latest: Checkpoint | null,
  verified: { signature: boolean; chain: boolean },
): CheckpointCoverage {
  const through = latest && verified.signature && verified.chain ? latest.seq : null;
  const uncovered = cited.filter((event) => through === null || event.seq > through).map((e) => e.seq);
  return {
    covered_through_seq: through,
    covered_events: cited.length - uncovered.length,
    uncovered_events: uncovered.length,
    uncovered_seqs: uncovered.sort((a, b) => a - b),
    latest: latest
      ? {
          seq: latest.seq,
          hash: latest.hash,
          time: latest.time,
          kid: latest.kid,
          signature_valid: verified.signature,
        }
      : null,
    verify_offline: VERIFY_OFFLINE,
  };
}
