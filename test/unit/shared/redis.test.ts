import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config/load-config.js";
import { connectRedis, type RedisClient } from "../../../src/shared/redis.js";

const server = { audience: "credbroker", public_url: "http://127.0.0.1:8080" };
const nowhere = [{ host: "127.0.0.1", port: 1 }];

/** Builds a client for the section and closes it before it connects anywhere. */
function opened(
  redis: Record<string, unknown>,
  role: "commands" | "blocking",
  env: Record<string, string> = {},
) {
  const client: RedisClient = connectRedis(parseConfig({ server, redis }).redis, role, env);
  client.on("error", () => undefined);
  client.disconnect();
  return client;
}

describe("connectRedis", () => {
  it("opens a Sentinel-backed client with passwords from the named env vars", () => {
    const env = { REDIS_PASSWORD: "data-secret", SENTINEL_PW: "sentinel-secret" };
    const client = opened(
      { sentinel: { sentinels: nowhere, name: "mymaster", db: 2, sentinel_password_env: "SENTINEL_PW" } },
      "commands",
      env,
    );
    expect(client).toBeInstanceOf(Redis);
    expect(client.options).toMatchObject({
      sentinels: nowhere,
      name: "mymaster",
      db: 2,
      password: "data-secret",
      sentinelPassword: "sentinel-secret",
      maxRetriesPerRequest: 2,
      enableOfflineQueue: false,
    });
  });

  it("opens a Cluster client; the BullMQ connection never gives up on a command", () => {
    const commands = opened({ cluster: { nodes: nowhere } }, "commands", { REDIS_PASSWORD: "s3cret" });
    const blocking = opened({ cluster: { nodes: nowhere } }, "blocking", { REDIS_PASSWORD: "" });
    expect(commands).toBeInstanceOf(Cluster);
    expect(commands.isCluster).toBe(true);
    if (!(commands instanceof Cluster) || !(blocking instanceof Cluster))
      throw new Error("expected Cluster clients");
    expect(commands.options.enableOfflineQueue).toBe(false);
    expect(commands.options.redisOptions).toMatchObject({ password: "s3cret", maxRetriesPerRequest: 2 });
    expect(blocking.options.enableOfflineQueue).toBe(true);
    expect(blocking.options.redisOptions?.maxRetriesPerRequest).toBeNull();
    expect(blocking.options.redisOptions?.password).toBeUndefined();
  });

  it("keeps a plain url a single-server client", () => {
    const client = opened({ url: "redis://127.0.0.1:1/3" }, "blocking");
    expect(client.isCluster).toBe(false);
    expect(client.options).toMatchObject({
      port: 1,
      db: 3,
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
    });
  });
});
