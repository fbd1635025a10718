import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/dev/dev-redis.js";
import { startOidcIssuerSim } from "../sims/oidc-issuer.js";
import { startHarness, TEST_KEK, waitFor } from "../support/broker-harness.js";
import { redisServerMissing, type StandaloneRedis, startStandalone } from "../support/redis-servers.js";
import { TEST_POLICY } from "../support/test-policy.js";

/**
 * A Redis that may evict keys must not hold the broker's records: refused at start (CONFIG GET, or INFO
 * where CONFIG is disabled) and caught at run time (readiness and a metric). An unreachable Redis at start
 * is one line on the console and one JSON line per connection, never a stack trace.
 */

const missing = redisServerMissing();
const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
const servers: StandaloneRedis[] = [];

async function server(...args: string[]): Promise<StandaloneRedis> {
  const started = await startStandalone(args);
  servers.push(started);
  return started;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

describe.skipIf(missing)("an evicting Redis", () => {
  it("is refused at start with an error that names the policy and the fix", async () => {
    const lru = await server("--maxmemory-policy", "allkeys-lru");
    const start = startHarness({ name: "evict-start", redis: { url: lru.url } });
    await expect(start).rejects.toThrow(/maxmemory-policy allkeys-lru.*set maxmemory-policy noeviction/);
    await expect(start).rejects.toThrow(/^refusing to start: Redis at 127\.0\.0\.1:\d+ may evict keys/);
  });

  it("is refused at start even where CONFIG is disabled (read from INFO memory)", async () => {
    const hidden = await server("--maxmemory-policy", "volatile-lru", "--rename-command", "CONFIG", "");
    const start = startHarness({ name: "evict-info", redis: { url: hidden.url } });
    await expect(start).rejects.toThrow(/maxmemory-policy volatile-lru/);
  });

  it("turned on at run time flips /readyz to 503 and the metric to 0; turned off, both recover", {
    timeout: 30_000,
  }, async () => {
    const safe = await server();
    const h = await startHarness({ name: "evict-run", redis: { url: safe.url, eviction_check_seconds: 1 } });
    const admin = new Redis(safe.url);
    const gauge = async () =>
      /^credbroker_redis_eviction_safe (\d)/m.exec(await (await fetch(`${h.baseUrl}/metrics`)).text())?.[1];
    try {
      expect((await h.call("GET", "/readyz")).status).toBe(200);
      expect(await gauge()).toBe("1");
      await admin.config("SET", "maxmemory-policy", "allkeys-lru");
      const unready = await waitFor(
        async () => {
          const res = await h.call("GET", "/readyz");
          return res.status === 503 ? res : null;
        },
        5_000,
        "readyz 503",
      );
      expect(unready.body.checks.eviction).toMatch(/may evict keys \(maxmemory-policy allkeys-lru\)/);
      expect(unready.body.checks.redis).toBe("ok");
      expect(await gauge()).toBe("0");
      await admin.config("SET", "maxmemory-policy", "noeviction");
      await waitFor(async () => (await h.call("GET", "/readyz")).status === 200, 5_000, "ready again");
      expect(await gauge()).toBe("1");
    } finally {
      admin.disconnect();
      await h.close();
    }
  });
});

describe("an unreachable Redis at start", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "credbroker-noredis-"));
    writeFileSync(path.join(dir, "policy.cedar"), TEST_POLICY);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is one line on the console and one JSON line per connection, without a stack trace", {
    timeout: 30_000,
  }, async () => {
    const issuer = await startOidcIssuerSim();
    const port = await freePort();
    const config = {
      server: { port: 0, audience: "credbroker-test", public_url: "http://127.0.0.1:1" },
      redis: { url: `redis://127.0.0.1:${port}/0`, key_prefix: "noredis" },
      issuers: [{ ...issuer.issuerConfig(), name: "ci", kind: "oidc" }],
      policy: { files: ["policy.cedar"] },
    };
    writeFileSync(path.join(dir, "credbroker.yaml"), JSON.stringify(config));
    const child = spawn(process.execPath, [BIN, "serve", "--config", path.join(dir, "credbroker.yaml")], {
      env: { ...process.env, CREDBROKER_SIGNER_KEK: TEST_KEK, LOG_LEVEL: "info", REDIS_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    await issuer.close();
    expect(code).toBe(1);
    const consoleLines = stderr.trim().split("\n");
    expect(consoleLines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^credbroker: cannot reach Redis at 127\\.0\\.0\\.1:${port} within 5 s \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\): start Redis`,
        ),
      ),
    ]);
    const problems = stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { msg: string; redis?: string })
      .filter((entry) => entry.msg === "Redis connection problem");
    expect(problems.map((p) => p.redis).sort()).toEqual(["commands", "queue"]);
    expect(`${stdout}${stderr}`).not.toMatch(/Unhandled error event|^\s+at /m);
  });
});
