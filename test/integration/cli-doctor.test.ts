import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/dev/dev-redis.js";
import { type OidcIssuerSim, startOidcIssuerSim } from "../sims/oidc-issuer.js";
import { TEST_KEK } from "../support/broker-harness.js";
import { TEST_REDIS_URL, uniquePrefix } from "../support/redis-keys.js";
import { redisServerMissing, type StandaloneRedis, startStandalone } from "../support/redis-servers.js";
import { TEST_POLICY } from "../support/test-policy.js";

/** `credbroker doctor`: every start-up check, without starting, each problem named with its cause. */

const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
const dir = mkdtempSync(path.join(tmpdir(), "credbroker-doctor-"));
let issuer: OidcIssuerSim;
let lru: StandaloneRedis | undefined;

beforeAll(async () => {
  issuer = await startOidcIssuerSim();
  writeFileSync(path.join(dir, "policy.cedar"), TEST_POLICY);
  if (!redisServerMissing()) lru = await startStandalone(["--maxmemory-policy", "allkeys-lru"]);
}, 30_000);
afterAll(async () => {
  await issuer?.close();
  await lru?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, overrides: Record<string, unknown>): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      server: { audience: "credbroker-test", public_url: "http://127.0.0.1:1" },
      redis: { url: TEST_REDIS_URL, key_prefix: uniquePrefix("doctor") },
      issuers: [{ ...issuer.issuerConfig(), name: "ci", kind: "oidc" }],
      policy: { files: ["policy.cedar"] },
      ...overrides,
    }),
  );
  return file;
}

async function doctor(config: string, env: Record<string, string> = {}) {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, "doctor", "--config", config], {
      env: { PATH: process.env.PATH, HOME: dir, ...env },
    });
    return { code: 0, stdout, stderr: "" };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("credbroker doctor", { timeout: 60_000 }, () => {
  it("a sound config passes every check", async () => {
    const res = await doctor(writeConfig("good.yaml", {}), {
      CREDBROKER_SIGNER_KEK: TEST_KEK,
      CREDBROKER_AUDIT_HMAC_KEY: TEST_KEK,
    });
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toMatch(/^ok {5} {2}issuer ci: \d+ keys at /m);
    expect(res.stdout).toMatch(
      /^ok {5} {2}redis: Redis at 127\.0\.0\.1:6379 reachable, maxmemory-policy noeviction/m,
    );
    expect(res.stdout).not.toContain("PROBLEM");
  });

  it("names each problem with its real cause and exits 3", async () => {
    const deadIssuer = {
      ...issuer.issuerConfig(),
      name: "gone",
      kind: "oidc",
      issuer: `http://127.0.0.1:${await freePort()}`,
    };
    const config = writeConfig("bad.yaml", {
      issuers: [deadIssuer],
      ...(lru ? { redis: { url: lru.url, key_prefix: "doctor" } } : {}),
    });
    const res = await doctor(config);
    expect(res.code).toBe(3);
    expect(res.stdout).toMatch(/PROBLEM {2}signer KEK: .*CREDBROKER_SIGNER_KEK/);
    expect(res.stdout).toMatch(/PROBLEM {2}issuer gone: fetch failed: .*ECONNREFUSED/);
    if (lru) expect(res.stdout).toMatch(/PROBLEM {2}redis: refusing to start: .*allkeys-lru.*noeviction/);
    expect(res.stderr).toContain("problem(s) found");
  });
});
