import type { RedisClient } from "../shared/redis.js";
import { signalKeys } from "./signal-keys.js";

/**
 * The SETs a poll stream (RFC 8936) holds until its receiver acknowledges them: a hash jti → SET and a
 * sorted set of jtis by arrival, both under the stream's hash tag. A stream holds at most `cap` SETs; past
 * it the oldest are dropped (and counted by the caller).
 */
export interface PollStore {
  /** Keeps one SET; resolves to how many old SETs were dropped to stay within the cap. */
  put(streamId: string, jti: string, set: string, at: number): Promise<number>;
  /** The oldest `max` SETs still unacknowledged, and whether more are waiting. */
  take(streamId: string, max: number): Promise<{ sets: Record<string, string>; more: boolean }>;
  /** Forgets acknowledged (or refused) SETs; unknown jtis are ignored. */
  ack(streamId: string, jtis: readonly string[]): Promise<void>;
}

export function createPollStore(deps: { redis: RedisClient; keyPrefix: string; cap: number }): PollStore {
  const { redis } = deps;
  const keys = signalKeys(deps.keyPrefix);

  return {
    async put(streamId, jti, set, at) {
      const order = keys.pollOrder(streamId);
      const sets = keys.pollSets(streamId);
      const result = await redis.multi().zadd(order, "NX", at, jti).hset(sets, jti, set).zcard(order).exec();
      const size = Number(result?.[2]?.[1] ?? 0);
      if (size <= deps.cap) return 0;
      const popped = await redis.zpopmin(order, size - deps.cap);
      const dropped = popped.filter((_, i) => i % 2 === 0);
      if (dropped.length > 0) await redis.hdel(sets, ...dropped);
      return dropped.length;
    },
    async take(streamId, max) {
      const order = keys.pollOrder(streamId);
      // One more than asked, to tell whether more are waiting.
      const jtis = await redis.zrange(order, "0", String(max));
      const page = jtis.slice(0, max);
      const values = page.length > 0 ? await redis.hmget(keys.pollSets(streamId), ...page) : [];
      const sets: Record<string, string> = {};
      page.forEach((jti, i) => {
        const value = values[i];
        if (typeof value === "string") sets[jti] = value;
      });
      return { sets, more: jtis.length > max };
    },
    async ack(streamId, jtis) {
      if (jtis.length === 0) return;
      await redis
        .multi()
        .zrem(keys.pollOrder(streamId), ...jtis)
        .hdel(keys.pollSets(streamId), ...jtis)
        .exec();
    },
  };
}
