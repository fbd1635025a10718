import net from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coalesceWrites } from "../../../src/shared/coalesced-writes.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../../support/redis-keys.js";

const prefix = uniquePrefix("coalesce");
const target = new URL(TEST_REDIS_URL);

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met within 2 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface CountingProxy {
  port: number;
  chunks: () => number;
  /** Replies are kept back until `release`. */
  holdReplies: () => void;
  release: () => void;
  close: () => void;
}

/** A TCP proxy in front of the test Redis that counts the chunks the client sends. */
function countingProxy(): Promise<CountingProxy> {
  let chunks = 0;
  let held: Buffer[] | null = null;
  let toClient: net.Socket | null = null;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    toClient = client;
    client.on("data", (data) => {
      chunks++;
      upstream.write(data);
    });
    upstream.on("data", (data) => (held ? held.push(data) : client.write(data)));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        port,
        chunks: () => chunks,
        holdReplies: () => {
          held = [];
        },
        release: () => {
          for (const data of held ?? []) toClient?.write(data);
          held = null;
        },
        close: () => server.close(),
      });
    }),
  );
}

describe("coalesced writes on the request path's connection", () => {
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let redis: Redis;
  beforeAll(async () => {
    proxy = await countingProxy();
    redis = new Redis({ port: proxy.port, host: "127.0.0.1", db: Number(target.pathname.slice(1) || 0) });
    coalesceWrites(redis);
    await redis.ping();
  });
  afterAll(async () => {
    redis.disconnect();
    proxy.close();
    await deleteByPrefix(TEST_REDIS_URL, prefix);
  });

  it("keeps every command's reply and the order of the commands of one turn", async () => {
    const before = proxy.chunks();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => redis.rpush(`${prefix}:list`, String(i))),
    );
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await redis.lrange(`${prefix}:list`, 0, -1)).toEqual(replies.map((n) => String(n - 1)));
    expect(proxy.chunks()).toBeGreaterThan(before);
  });

  it("does not hold a later turn's command behind an earlier reply", async () => {
    proxy.holdReplies();
    const first = redis.set(`${prefix}:a`, "1");
    await new Promise((resolve) => setImmediate(resolve));
    const second = redis.set(`${prefix}:b`, "2");
    // The server ran both while no reply had come back (auto-pipelining would hold the second).
    const direct = new Redis(TEST_REDIS_URL);
    try {
      await waitFor(async () => (await direct.get(`${prefix}:b`)) === "2");
    } finally {
      direct.disconnect();
    }
    proxy.release();
    expect(await Promise.all([first, second])).toEqual(["OK", "OK"]);
  });
});
