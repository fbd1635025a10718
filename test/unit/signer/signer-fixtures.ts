import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";

/** Shared set-up for the signer tests: a real Redis, a unique key prefix per test file, a movable clock. */

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export function connectTestRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
}

/** A prefix no other test uses; `deleteTestKeys` removes everything under it. */
export function testPrefix(): string {
  return `test-signer-${randomUUID()}`;
}

export async function deleteTestKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

export const randomKek = (): Buffer => randomBytes(32);

/** A clock tests move by hand; starts at the real time so tokens also verify with jose's own clock. */
export function testClock(start = Date.now()) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}
