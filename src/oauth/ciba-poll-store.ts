import type { RedisClient } from "../shared/redis.js";
import { oauthKeys } from "./oauth-keys.js";

/**
 * CIBA poll pacing (CIBA Core §11: `slow_down` when a client polls faster than `interval`), shared by
 * every replica: one `SET key 1 PX interval NX` per poll.
 */
export interface CibaPollStore {
  /** True when no poll of this approval happened in the last `intervalMs`; records this one. */
  claim(approvalId: string, intervalMs: number): Promise<boolean>;
}

export function createCibaPollStore(deps: {
  redis: Pick<RedisClient, "set">;
  keyPrefix: string;
}): CibaPollStore {
  const keys = oauthKeys(deps.keyPrefix);
  return {
    async claim(approvalId, intervalMs) {
      return (await deps.redis.set(keys.cibaPoll(approvalId), "1", "PX", intervalMs, "NX")) === "OK";
    },
  };
}
