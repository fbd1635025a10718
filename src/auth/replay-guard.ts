import { type Clock, systemClock } from "../shared/clock.js";
import type { RedisClient } from "../shared/redis.js";
import { authKeys } from "./auth-keys.js";

/**
 * Remembers which assertions were already exchanged, per issuer, until they expire (standards.md §1.1
 * step 8). Errors from the store propagate: the verifier turns them into `unavailable` (fail closed).
 */
export interface ReplayGuard {
  /**
   * Records the first use of an assertion. Resolves `true` the first time and `false` when the same
   * `tokenIdOrHash` was already claimed for this issuer and has not expired yet.
   * @param expiresAtMs when the record may be forgotten (the assertion's `exp` plus leeway), epoch ms.
   */
  claim(issuerName: string, tokenIdOrHash: string, expiresAtMs: number): Promise<boolean>;
}

export interface RedisReplayGuardDeps {
  redis: Pick<RedisClient, "set">;
  /** Key namespace, e.g. the configured `redis.key_prefix`. */
  keyPrefix: string;
  /** Source of "now" for the record's time to live. Default: the system clock. */
  clock?: Clock;
}

/** Key of one claimed assertion: `<prefix>:replay:<issuer name>:<jti or token hash>`. */
export const replayKey = (keyPrefix: string, issuerName: string, tokenIdOrHash: string): string =>
  authKeys(keyPrefix).replay(issuerName, tokenIdOrHash);

/** One `SET key 1 PX ttl NX` per claim: atomic, so two replicas racing on one assertion cannot both win. */
export function createRedisReplayGuard(deps: RedisReplayGuardDeps): ReplayGuard {
  const clock = deps.clock ?? systemClock;
  return {
    async claim(issuerName, tokenIdOrHash, expiresAtMs) {
      const ttlMs = Math.max(1, Math.ceil(expiresAtMs - clock.now()));
      const result = await deps.redis.set(
        replayKey(deps.keyPrefix, issuerName, tokenIdOrHash),
        "1",
        "PX",
        ttlMs,
        "NX",
      );
      return result === "OK";
    },
  };
}
