import { BrokerError } from "../shared/errors.js";
import type { AuditCheckpoints } from "./audit-checkpoints.js";
import type { SealLock } from "./audit-seal-lock.js";
import type { Checkpoint } from "./checkpoint-types.js";

/** What `POST /v1/audit/checkpoints` made: a new checkpoint, or the newest one when the head had not moved. */
export interface SealResult {
  checkpoint: Checkpoint;
  created: boolean;
}

/** How long a seal request waits for a sealing pass that holds the lock (a pass takes milliseconds). */
const WAIT_MS = 5_000;

/**
 * Signs a checkpoint of the current head now, under the same lock as the periodic sealer, instead of
 * waiting up to `audit.checkpoint_interval_seconds`. No policy decision here: the audit service decides.
 */
export function createSealNow(deps: {
  lock: SealLock;
  checkpoints: Pick<AuditCheckpoints, "checkpoint" | "list">;
}) {
  return async function sealNow(): Promise<SealResult> {
    const result = await deps.lock.waitWith(async () => {
      const made = await deps.checkpoints.checkpoint();
      if (made) return { checkpoint: made, created: true };
      const latest = (await deps.checkpoints.list()).at(-1);
      return latest ? { checkpoint: latest, created: false } : null;
    }, WAIT_MS);
    if (!result.held)
      throw new BrokerError("unavailable", "Another process is sealing the audit chain; try again.", {
        headers: { "Retry-After": "1" },
      });
    if (!result.value) throw new BrokerError("unavailable", "The audit chain has no event to seal yet.");
    return result.value;
  };
}

export type SealNow = ReturnType<typeof createSealNow>;
