import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { RedisClient } from "../shared/redis.js";
import type { AuditCheckpoints } from "./audit-checkpoints.js";
import { auditKeys } from "./audit-keys.js";
import { parseStoredEvent } from "./audit-parse.js";
import { createSealLock } from "./audit-seal-lock.js";

/** Checkpoints read (oldest first) per trim pass: the pass's cost does not grow with the chain's history. */
const TRIM_CHECKPOINTS = 100;

export interface SealerOptions {
  everyEvents: number;
  intervalMs: number;
  /** Events older than this (by their covering checkpoint) are trimmed; undefined keeps everything. */
  retentionMs: number | undefined;
}

/**
 * The worker's audit duties: a signed checkpoint every N events or T ms (whichever comes first), and
 * retention trimming that keeps a checkpoint at the trim point so the rest of the chain still verifies.
 */
export function createAuditSealer(deps: {
  redis: RedisClient;
  keyPrefix: string;
  checkpoints: AuditCheckpoints;
  clock: Clock;
  logger: Logger;
  options: SealerOptions;
}) {
  const keys = auditKeys(deps.keyPrefix);
  const lock = createSealLock(deps);
  const { options } = deps;

  async function due(): Promise<boolean> {
    // The newest checkpoint only (one ZRANGE -1 -1), whatever the number of checkpoints.
    const [headRaw, last] = await Promise.all([deps.redis.get(keys.head), deps.checkpoints.last()]);
    const headSeq = headRaw ? Number(headRaw.split(" ")[0]) : 0;
    if (!last) return headSeq > 0;
    if (headSeq <= last.seq) return false;
    return (
      headSeq - last.seq >= options.everyEvents ||
      deps.clock.now() - Date.parse(last.time) >= options.intervalMs
    );
  }

  /** The stream id of the first event after `seq`, or null if there is none. */
  async function firstIdAfter(seq: number): Promise<string | null> {
    let start = "-";
    for (;;) {
      const entries = await deps.redis.xrange(keys.stream, start, "+", "COUNT", 500);
      for (const [id, fields] of entries) if (parseStoredEvent(fields).seq > seq) return id;
      if (entries.length < 500) return null;
      start = `(${entries[entries.length - 1]![0]}`;
    }
  }

  async function trim(): Promise<void> {
    if (options.retentionMs === undefined) return;
    const cutoff = deps.clock.now() - options.retentionMs;
    // The oldest checkpoint first: while it is not old enough, nothing is (one small read per pass). Else
    // the oldest TRIM_CHECKPOINTS: a pass trims up to that many, the next pass goes on.
    const [first] = await deps.checkpoints.oldest(1);
    if (!first || Date.parse(first.time) >= cutoff) return;
    const oldest = await deps.checkpoints.oldest(TRIM_CHECKPOINTS);
    const eligible = oldest.filter((c) => Date.parse(c.time) < cutoff);
    const point = eligible[eligible.length - 1];
    const anchor = await deps.checkpoints.anchor();
    if (!point || (anchor && anchor.seq >= point.seq)) return;
    const firstKept = await firstIdAfter(point.seq);
    const pipeline = deps.redis.pipeline().set(keys.anchor, JSON.stringify(point));
    if (firstKept) pipeline.xtrim(keys.stream, "MINID", firstKept);
    else pipeline.del(keys.stream);
    pipeline.zremrangebyscore(keys.checkpoints, "-inf", `(${point.seq}`);
    await pipeline.exec();
    deps.logger.info({ through_seq: point.seq }, "audit events trimmed by retention; anchor checkpoint kept");
  }

  /** One sealing pass, under the seal lock so replicas do not duplicate work; skipped while it is held. */
  return async function seal(): Promise<void> {
    await lock.tryWith(async () => {
      if (await due()) await deps.checkpoints.checkpoint();
      await trim();
    });
  };
}
