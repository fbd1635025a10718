import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerVaultSim, startBrokerVaultSim } from "../sims/vault/vault-sim-fixtures.js";
import { VAULT_PROFILES } from "../sims/vault/vault-test-provider.js";
import { type Harness, startHarness, TEST_KEK, waitFor } from "../support/broker-harness.js";
import { uniquePrefix } from "../support/redis-keys.js";
import { redisServerMissing, type StandaloneRedis, startStandalone } from "../support/redis-servers.js";
import { TEST_POLICY } from "../support/test-policy.js";

/**
 * A worker killed (SIGKILL) while it holds revocations: a live worker takes them over within the documented
 * window (`revocation.job_lock_seconds` 4 s: lock expiry plus the next stalled-job check, ≤ 2 × 4 s), and
 * every lease ends dead at Vault. The killed worker is a real `credbroker serve --role worker` process.
 */

const missing = redisServerMissing();
const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
/** Revocations answered this late hang in the worker that sent them (until it dies). */
const SLOW_MS = 30_000;

let server: StandaloneRedis;
let vault: BrokerVaultSim;
let api: Harness;
let dir: string;
const prefix = uniquePrefix("workerkill");
const children: ChildProcess[] = [];

/** What the api broker, the killed worker and the live worker share. */
const shared = () => ({
  providers: {
    vault: {
      address: vault.sim.address,
      auth: { method: "token", token_env: "TEST_VAULT_TOKEN" },
      timeout_ms: 60_000,
    },
  },
  profiles: { "reports-db": VAULT_PROFILES["reports-db"] },
  revocation: { attempts: 10, backoff_ms: 100, reconcile_interval_seconds: 5, concurrency: 20 },
});

const processConfig = () => ({
  server: { port: 0, worker_port: 0, audience: "credbroker-test", public_url: "http://127.0.0.1:1" },
  redis: { url: server.url, key_prefix: prefix },
  issuers: [{ ...api.issuer.issuerConfig(), name: "ci", kind: "oidc", jwks_cooldown_seconds: 0 }],
  policy: { files: ["policy.cedar"] },
  ...shared(),
});

/** `credbroker serve --role worker` as its own process; resolves once it says it started. */
async function spawnWorker(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [BIN, "serve", "--config", path.join(dir, "credbroker.yaml"), "--role", "worker"],
    {
      env: {
        ...process.env,
        CREDBROKER_SIGNER_KEK: TEST_KEK,
        TEST_VAULT_TOKEN: vault.brokerToken,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${output}`);
      return output.includes("credbroker worker started");
    },
    30_000,
    "worker process",
  );
  return child;
}

beforeAll(async () => {
  if (missing) return;
  server = await startStandalone();
  vault = await startBrokerVaultSim({ slowMs: SLOW_MS });
  api = await startHarness({
    name: "workerkill",
    prefix,
    role: "api",
    redis: { url: server.url },
    config: shared(),
    env: { TEST_VAULT_TOKEN: vault.brokerToken },
  });
  dir = mkdtempSync(path.join(tmpdir(), "credbroker-workerkill-"));
  writeFileSync(path.join(dir, "policy.cedar"), TEST_POLICY);
  writeFileSync(path.join(dir, "credbroker.yaml"), JSON.stringify(processConfig()));
}, 60_000);

afterAll(async () => {
  if (missing) return;
  for (const child of children) child.kill("SIGKILL");
  await api?.close();
  await vault?.sim.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(missing)("a worker killed mid-revocation", () => {
  it("its revocations resume on a live worker within 10 s and every lease ends dead at Vault", {
    timeout: 90_000,
  }, async () => {
    const first = await spawnWorker();
    const agent = await api.token("kill-agent");
    const open = await api.call("POST", "/v1/tasks", {
      token: agent,
      body: { intent: "kill a worker", ttl_seconds: 600 },
    });
    expect(open.status).toBe(201);
    const taskId = open.body.task_id;
    const leases: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api.call("POST", `/v1/tasks/${taskId}/credentials`, {
        token: agent,
        body: { profile: "reports-db" },
      });
      expect(res.status, res.text).toBe(201);
      leases.push(res.body.secret.lease_id);
    }
    // Every lease revocation the first worker sends hangs at Vault.
    vault.sim.failNext(5, "slow", /^sys\/leases\/revoke$/);
    expect((await api.call("POST", `/v1/tasks/${taskId}/close`, { token: agent })).status).toBe(202);
    await waitFor(
      async () => vault.sim.requests.length > 0 && leases.every((lease) => vault.sim.isLeaseLive(lease)),
      5_000,
      "revocations sent",
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(leases.every((lease) => vault.sim.isLeaseLive(lease))).toBe(true);

    first.kill("SIGKILL");
    const killedAt = Date.now();
    const second = await startHarness({
      name: "workerkill-2",
      prefix,
      role: "worker",
      issuer: api.issuer,
      redis: { url: server.url },
      config: shared(),
      env: { TEST_VAULT_TOKEN: vault.brokerToken },
    });
    try {
      const liveAt = Date.now();
      await waitFor(
        async () => leases.every((lease) => !vault.sim.isLeaseLive(lease)),
        20_000,
        "leases revoked",
      );
      const resumedAfter = Date.now() - killedAt;
      console.info(
        `killed worker: its revocations done ${resumedAfter} ms after SIGKILL (live worker up after ${liveAt - killedAt} ms)`,
      );
      expect(resumedAfter).toBeLessThan(10_000);
      await waitFor(
        async () => (await api.call("GET", `/v1/tasks/${taskId}`, { token: agent })).body.state === "closed",
        10_000,
        "task closed",
      );
    } finally {
      await second.close();
    }
  });
});
