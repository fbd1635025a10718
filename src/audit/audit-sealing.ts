import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { RedisClient } from "../shared/redis.js";
import type { AuditCheckpoints } from "./audit-checkpoints.js";
import { createAuditSealer } from "./audit-sealer.js";

/** The `audit` config keys the sealing loop reads. */
export interface SealingConfig {
  checkpoint_every_events: number;
  checkpoint_interval_seconds: number;
  retention_days?: number;
}

/** The worker's audit sealing loop: checkpoints and retention, at most every 5 s. Returns its stopper. */
export function startAuditSealing(deps: {
  redis: RedisClient;
  keyPrefix: string;
  checkpoints: AuditCheckpoints;
  clock: Clock;
  logger: Logger;
  audit: SealingConfig;
}): () => void {
  const { audit } = deps;
  const seal = createAuditSealer({
    ...deps,
    options: {
      everyEvents: audit.checkpoint_every_events,
      intervalMs: audit.checkpoint_interval_seconds * 1000,
      retentionMs: audit.retention_days === undefined ? undefined : audit.retention_days * 86_400_000,
    },
  });
  const timer = setInterval(
    () =>
      void seal().catch((err: unknown) =>
        deps.logger.warn({ error: err instanceof Error ? err.message : String(err) }, "audit sealing failed"),
      ),
    Math.min(audit.checkpoint_interval_seconds * 1000, 5_000),
  );
  timer.unref();
  return () => clearInterval(timer);
}
