import { Redis, type RedisOptions } from "ioredis";

export type { Redis } from "ioredis";

/**
 * Opens a Redis connection. BullMQ workers need `maxRetriesPerRequest: null` (they block); request-path
 * connections keep a bound so a dead Redis turns into a fast 503 instead of a hung request.
 */
export function connectRedis(url: string, role: "commands" | "blocking"): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === "blocking" ? null : 2,
    enableOfflineQueue: role === "blocking",
    connectTimeout: 5_000,
    lazyConnect: false,
  };
  return new Redis(url, options);
}

/** Resolves once the connection is ready, or rejects with the connection error. */
export async function waitForRedis(redis: Redis, timeoutMs = 5_000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
