import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../src/config/load-config.js";

const server = { audience: "credbroker", public_url: "http://127.0.0.1:8080" };
const sentinel = { sentinels: [{ host: "redis-sentinel", port: 26379 }], name: "mymaster" };
const cluster = {
  nodes: [
    { host: "redis-0", port: 6379 },
    { host: "redis-1", port: 6379 },
  ],
};

function issuesOf(raw: unknown, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(raw, "test", env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("the redis section", () => {
  it("keeps `url` and `key_prefix` as they were, with safe timeouts by default", () => {
    const config = parseConfig({ server, redis: { url: "redis://127.0.0.1:6379/0" } });
    expect(config.redis).toEqual({
      url: "redis://127.0.0.1:6379/0",
      key_prefix: "cb",
      command_timeout_ms: 1_500,
      connect_timeout_ms: 5_000,
      keepalive_ms: 10_000,
      eviction_check_seconds: 30,
    });
  });

  it("accepts Sentinel and Cluster, with passwords named by env var only", () => {
    const viaSentinel = parseConfig({ server, redis: { sentinel, key_prefix: "cbprod" } });
    expect(viaSentinel.redis.sentinel).toEqual({
      ...sentinel,
      db: 0,
      password_env: "REDIS_PASSWORD",
      sentinel_password_env: "REDIS_SENTINEL_PASSWORD",
      tls: false,
    });
    const viaCluster = parseConfig({
      server,
      redis: { cluster: { ...cluster, username: "broker", tls: true } },
    });
    expect(viaCluster.redis.cluster).toEqual({
      ...cluster,
      username: "broker",
      password_env: "REDIS_PASSWORD",
      tls: true,
    });
    expect(issuesOf({ server, redis: { cluster: { ...cluster, password: "hunter2" } } })[0]).toContain(
      "redis.cluster.password: secrets never go in the config file",
    );
  });

  it("refuses no topology or more than one, naming REDIS_URL", () => {
    expect(issuesOf({ server, redis: { key_prefix: "cb" } })).toEqual([
      "redis: set one topology: url (or the REDIS_URL env var), sentinel or cluster",
    ]);
    expect(issuesOf({ server, redis: { sentinel, cluster } })[0]).toMatch(/^redis: set only one topology/);
    expect(issuesOf({ server, redis: { cluster } }, { REDIS_URL: "redis://10.0.0.1:6379" })[0]).toMatch(
      /^redis: set only one topology of url \(or the REDIS_URL env var\)/,
    );
    expect(issuesOf({ server, redis: { sentinel: { ...sentinel, sentinels: [] } } })[0]).toContain(
      "redis.sentinel.sentinels",
    );
  });
});
