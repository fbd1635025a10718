import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createCredentialStore } from "../../src/credentials/credential-store.js";
import { type BrokerVaultSim, startBrokerVaultSim } from "../sims/vault/vault-sim-fixtures.js";
import { buildTestVaultProvider, VAULT_PROFILES } from "../sims/vault/vault-test-provider.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { pendingCredential } from "../support/credential-fixture.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";
import { dumpPrefix } from "../support/redis-records.js";

/** The Vault provider end to end: HTTP API → broker → provider → Vault simulator, with real Redis. */

let h: Harness;
let vault: BrokerVaultSim;
let redis: Redis;
let agent: string;
let operator: string;

const PROFILES = {
  "reports-db": VAULT_PROFILES["reports-db"],
  "reports-token": VAULT_PROFILES["reports-token"],
};

beforeAll(async () => {
  vault = await startBrokerVaultSim();
  h = await startHarness({
    name: "vault",
    config: {
      providers: {
        vault: {
          address: vault.sim.address,
          auth: { method: "token", token_env: "TEST_VAULT_TOKEN" },
          timeout_ms: 500,
        },
      },
      profiles: PROFILES,
      revocation: { attempts: 10, backoff_ms: 100, reconcile_interval_seconds: 1, pending_grace_seconds: 2 },
    },
    env: { TEST_VAULT_TOKEN: vault.brokerToken },
  });
  redis = new Redis(TEST_REDIS_URL);
  agent = await h.token("vault-agent");
  operator = await h.token("operator");
});
afterAll(async () => {
  await h?.close();
  await vault?.sim.close();
  redis?.disconnect();
});
afterEach(async () => {
  vault.sim.unseal();
  vault.sim.clearFaults();
  await vault.sim.goOnline();
});

async function openTask(ttlSeconds = 600, token = agent) {
  const res = await h.call("POST", "/v1/tasks", {
    token,
    body: { intent: "vault test", ttl_seconds: ttlSeconds },
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function issue(taskId: string, profile: string, token = agent) {
  const res = await h.call("POST", `/v1/tasks/${taskId}/credentials`, { token, body: { profile } });
  expect(res.status).toBe(201);
  return res.body;
}

/** A task with one credential of each Vault mode, both alive at the sim. */
async function taskWithBoth(ttlSeconds = 600, token = agent) {
  const task = await openTask(ttlSeconds, token);
  const secret = await issue(task.task_id, "reports-db", token);
  const tokenCred = await issue(task.task_id, "reports-token", token);
  expect(aliveAtVault(secret, tokenCred)).toBe(true);
  return { task, secret, tokenCred };
}

// biome-ignore lint/suspicious/noExplicitAny: credential responses are read as JSON
type CredentialBody = any;

/** Whether any of the credentials is still alive at Vault (lease, database user or token). */
function aliveAtVault(...creds: CredentialBody[]): boolean {
  return creds.some((cred) =>
    cred.secret.lease_id
      ? vault.sim.isLeaseLive(cred.secret.lease_id) || vault.sim.isDbUserLive(cred.secret.data.username)
      : vault.sim.isTokenLive(cred.secret.token),
  );
}

const getTask = async (taskId: string, token = agent) =>
  (await h.call("GET", `/v1/tasks/${taskId}`, { token })).body;

const waitForTask = (
  taskId: string,
  test: (task: CredentialBody) => boolean,
  timeoutMs: number,
  what: string,
) =>
  waitFor(
    async () => {
      const task = await getTask(taskId);
      return test(task) ? task : null;
    },
    timeoutMs,
    what,
  );

const closed = (task: CredentialBody) =>
  task.state === "closed" && task.credentials.every((c: { state: string }) => c.state === "revoked");

describe("issuing", () => {
  it("returns the secret shapes of API.md once, and Redis never holds the password or the token", async () => {
    const { secret, tokenCred } = await taskWithBoth();
    expect(secret).toMatchObject({ provider: "vault", profile: "reports-db", notes: [] });
    expect(secret.ttl_seconds).toBeGreaterThanOrEqual(598);
    expect(Object.keys(secret.secret).sort()).toEqual(["data", "lease_id"]);
    expect(secret.downstream.account).toBe(secret.secret.data.username);
    expect(tokenCred.secret).toEqual({
      token: expect.stringMatching(/^hvs\./),
      accessor: expect.any(String),
    });
    expect(tokenCred.downstream.account).toMatch(/^token-credbroker-tsk-/);
    const lease = vault.sim.liveLeases().find((l) => l.id === secret.secret.lease_id);
    expect(Math.abs((lease?.expiresAt ?? 0) - Date.parse(secret.expires_at))).toBeLessThan(1_000);

    const stored = (await dumpPrefix(redis, h.prefix)).map((entry) => entry.value).join("\n");
    expect(stored).not.toContain(secret.secret.data.password);
    expect(stored).not.toContain(tokenCred.secret.token);
  });

  it.each([
    ["sealed", () => vault.sim.seal()],
    ["unreachable", () => vault.sim.goOffline()],
  ])(
    "with Vault %s, issuing answers 502 provider_error and leaves nothing active or alive",
    async (_, fail) => {
      const task = await openTask();
      const before = { leases: vault.sim.liveLeases().length, tokens: vault.sim.liveTokens().length };
      await fail();
      for (const profile of ["reports-db", "reports-token"]) {
        const res = await h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
          token: agent,
          body: { profile },
        });
        expect(res.status).toBe(502);
        expect(res.body.error).toMatchObject({ code: "provider_error", details: { provider: "vault" } });
      }
      vault.sim.unseal();
      await vault.sim.goOnline();
      const view = await getTask(task.task_id);
      expect(view.credentials.map((c: { state: string }) => c.state)).toEqual(["failed", "failed"]);
      expect({ leases: vault.sim.liveLeases().length, tokens: vault.sim.liveTokens().length }).toEqual(
        before,
      );
    },
  );
});

describe("revocation at task end", () => {
  it("closing a task kills its vault lease and token at Vault within a second", async () => {
    const { task, secret, tokenCred } = await taskWithBoth();
    const res = await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    expect(res.status).toBe(202);
    await waitFor(async () => !aliveAtVault(secret, tokenCred), 1_000, "vault credentials dead");
    await waitForTask(task.task_id, closed, 5_000, "task closed, credentials revoked");
  });

  it("a task past its deadline leaves nothing alive at Vault", async () => {
    const { task, secret, tokenCred } = await taskWithBoth(3);
    for (const cred of [secret, tokenCred]) {
      expect(Date.parse(cred.expires_at)).toBeLessThanOrEqual(Date.parse(task.deadline));
    }
    const ended = await waitForTask(
      task.task_id,
      (t) => t.state === "closed",
      8_000,
      "task closed at deadline",
    );
    expect(ended.close_reason).toBe("deadline");
    await waitFor(async () => !aliveAtVault(secret, tokenCred), 1_000, "vault credentials dead");
  });

  it.each([
    ["sealed", () => vault.sim.seal(), async () => vault.sim.unseal()],
    ["unreachable", () => vault.sim.goOffline(), () => vault.sim.goOnline()],
  ])(
    "with Vault %s at close, credentials stay revoking and retry until Vault is back, then end revoked",
    async (_, fail, recover) => {
      const { task, secret, tokenCred } = await taskWithBoth();
      await fail();
      await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
      const store = createCredentialStore({ redis, keyPrefix: h.prefix, now: () => Date.now() });
      await waitFor(
        async () => {
          const creds = await Promise.all(
            [secret, tokenCred].map((c) => store.getInTask(task.task_id, c.credential_id)),
          );
          return creds.every((c) => c?.state === "revoking" && c.revokeAttempts >= 2);
        },
        8_000,
        "two failed attempts each",
      );
      const waiting = await getTask(task.task_id);
      expect(waiting.state).toBe("closing");
      expect(waiting.credentials.map((c: { last_error: string }) => c.last_error)).toEqual([
        expect.stringMatching(/^Vault (unavailable|unreachable)/),
        expect.stringMatching(/^Vault (unavailable|unreachable)/),
      ]);
      expect(aliveAtVault(secret, tokenCred)).toBe(true);
      await recover();
      await waitForTask(task.task_id, closed, 15_000, "revoked once Vault is back");
      expect(aliveAtVault(secret, tokenCred)).toBe(false);
    },
  );

  it("emergency revocation by provider reaches every vault credential and spares other tasks", async () => {
    const worker = await h.token("vault-emergency");
    const first = await taskWithBoth(600, worker);
    const second = await taskWithBoth(600, worker);
    const signerOnly = await openTask(600, worker);
    await issue(signerOnly.task_id, "tickets-api", worker);
    const res = await h.call("POST", "/v1/admin/revocations", {
      token: operator,
      body: { selector: { provider: "vault" }, reason: "vault token leaked" },
    });
    expect(res.status).toBe(202);
    expect(res.body.credentials).toBeGreaterThanOrEqual(4);
    await waitFor(
      async () => {
        const status = await h.call("GET", `/v1/admin/revocations/${res.body.revocation_id}`, {
          token: operator,
        });
        return status.body.state === "completed";
      },
      8_000,
      "revocation completed",
    );
    expect(aliveAtVault(first.secret, first.tokenCred, second.secret, second.tokenCred)).toBe(false);
    expect((await getTask(signerOnly.task_id, worker)).state).toBe("open");
  });

  it("a vault token issued just before a crash (no handle recorded) is found and revoked by the reconciler", async () => {
    const task = await openTask();
    const store = createCredentialStore({ redis, keyPrefix: h.prefix, now: () => Date.now() });
    const credentialId = `crd_vaultcrash${Date.now().toString(36)}`;
    const recorded = await store.createPending(
      pendingCredential({
        id: credentialId,
        taskId: task.task_id,
        agent: "ci:vault-agent",
        profile: "reports-token",
        provider: "vault",
        createdAt: Date.now() - 10_000,
      }),
      Date.now(),
    );
    expect(recorded).toBe("ok");
    const { provider } = buildTestVaultProvider({
      address: vault.sim.address,
      login: { method: "token", token: vault.brokerToken },
      profiles: PROFILES,
    });
    const issued = await provider.issue({
      credentialId,
      taskId: task.task_id,
      agent: "ci:vault-agent",
      owner: "ci:vault-agent",
      initiator: { subject: "x", verified: false },
      profile: "reports-token",
      ttlSeconds: 300,
      scopes: [],
      taskDeadline: Date.parse(task.deadline),
      actChain: [],
    });
    await provider.close();
    expect(vault.sim.isTokenLive(String(issued.secret.token))).toBe(true);
    await waitForTask(
      task.task_id,
      (t) => t.credentials[0]?.state === "revoked",
      8_000,
      "half-issued token revoked",
    );
    expect(vault.sim.isTokenLive(String(issued.secret.token))).toBe(false);
  });
});

describe("evidence with Vault and signer credentials", () => {
  it("the evidence report of a delegated task says which credentials were valid at each instant", async () => {
    const parent = await openTask();
    const dbCred = await issue(parent.task_id, "reports-db");
    const child = (
      await h.call("POST", "/v1/tasks", {
        token: agent,
        body: {
          intent: "sub-agent work",
          ttl_seconds: 300,
          parent_task_id: parent.task_id,
          agent: "ci:vault-sub",
        },
      })
    ).body;
    const sub = await h.token("vault-sub");
    const jwtCred = await issue(child.task_id, "tickets-api", sub);
    await h.call("POST", `/v1/tasks/${child.task_id}/close`, { token: sub });
    const closedChild = await waitFor(
      async () => {
        const view = (await h.call("GET", `/v1/tasks/${child.task_id}`, { token: sub })).body;
        return view.state === "closed" ? view : null;
      },
      5_000,
      "child closed",
    );
    const revokedAt = Date.parse(closedChild.credentials[0].revoked_at);
    const validAt = async (ms: number) => {
      const at = new Date(ms).toISOString();
      const res = await h.call("GET", `/v1/tasks/${parent.task_id}/evidence?at=${encodeURIComponent(at)}`, {
        token: agent,
      });
      expect(res.status).toBe(200);
      return res.body.valid_at.credentials.map((c: { credential_id: string }) => c.credential_id).sort();
    };
    const dbIssued = Date.parse(dbCred.issued_at);
    const jwtIssued = Date.parse(jwtCred.issued_at);
    expect(await validAt(dbIssued - 1)).toEqual([]);
    expect(await validAt(dbIssued)).toEqual([dbCred.credential_id]);
    expect(await validAt(jwtIssued)).toEqual([dbCred.credential_id, jwtCred.credential_id].sort());
    expect(await validAt(revokedAt)).toEqual([dbCred.credential_id]);
    const report = (await h.call("GET", `/v1/tasks/${parent.task_id}/evidence`, { token: agent })).body;
    const providers = report.credentials.map((c: { provider: string }) => c.provider).sort();
    expect(providers).toEqual(["signer", "vault"]);
    expect(report.tasks.map((t: { agent: string }) => t.agent)).toEqual(
      expect.arrayContaining(["ci:vault-agent", "ci:vault-sub"]),
    );
  });
});
