import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisProxy, startRedisProxy } from "../../bench/redis-proxy.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../support/redis-keys.js";

const prefix = uniquePrefix("bench-proxy");
const upstream = new URL(TEST_REDIS_URL);
let proxy: RedisProxy;
let redis: Redis;

beforeAll(async () => {
  proxy = await startRedisProxy({ host: upstream.hostname, port: Number(upstream.port || 6379) });
  redis = new Redis(`${proxy.url}${upstream.pathname}`, { maxRetriesPerRequest: 1 });
  await redis.ping();
});

afterAll(async () => {
  redis.disconnect();
  await proxy.close();
  await deleteByPrefix(TEST_REDIS_URL, prefix);
});

describe("bench counting Redis proxy", () => {
  it("forwards commands unchanged and counts sequential round trips", async () => {
    const before = proxy.counts();
    await redis.set(`${prefix}:a`, "1");
    expect(await redis.get(`${prefix}:a`)).toBe("1");
    await redis.incr(`${prefix}:a`);
    const after = proxy.counts();
    expect(after.commands - before.commands).toBe(3);
    expect(after.roundTrips - before.roundTrips).toBe(3);
    expect(after.writes - before.writes).toBe(3);
    expect(after.responses - before.responses).toBe(3);
  });

  it("sees a pipeline as one round trip of several commands", async () => {
    const before = proxy.counts();
    const replies = await redis
      .pipeline()
      .set(`${prefix}:b`, "x")
      .get(`${prefix}:b`)
      .del(`${prefix}:b`)
      .exec();
    expect(replies?.map(([, value]) => value)).toEqual(["OK", "x", 1]);
    const after = proxy.counts();
    expect(after.commands - before.commands).toBe(3);
    expect(after.roundTrips - before.roundTrips).toBe(1);
  });
});
