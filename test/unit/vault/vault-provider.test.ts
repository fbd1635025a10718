import { afterEach, describe, expect, it } from "vitest";
import { PermanentProviderError, TransientProviderError } from "../../../providers/provider-errors.js";
import { type BrokerVaultSim, startBrokerVaultSim } from "../../sims/vault/vault-sim-fixtures.js";
import {
  buildTestVaultProvider,
  issueRequest,
  type TestVaultProvider,
} from "../../sims/vault/vault-test-provider.js";

let env: (BrokerVaultSim & TestVaultProvider) | undefined;
afterEach(async () => {
  await env?.provider.close();
  await env?.sim.close();
  env = undefined;
});

async function setup(options: Partial<Parameters<typeof buildTestVaultProvider>[0]> = {}) {
  const vault = await startBrokerVaultSim({ slowMs: 600 });
  env = {
    ...vault,
    ...buildTestVaultProvider({
      address: vault.sim.address,
      login: { method: "token", token: vault.brokerToken },
      ...options,
    }),
  };
  return env;
}

const handleOf = (raw: string) => JSON.parse(raw) as { kind: string; lease_id?: string; accessor?: string };

describe("secret mode", () => {
  it("returns the lease and data once, acts as the database user, and stores only the lease id", async () => {
    const { provider, sim } = await setup();
    const issued = await provider.issue(issueRequest("reports-db"));
    const data = issued.secret.data as { username: string; password: string };
    expect(issued.secret.lease_id).toMatch(/^database\/creds\/reports-ro\//);
    expect(issued.downstreamAccount).toBe(data.username);
    const lease = sim.liveLeases().find((l) => l.id === issued.secret.lease_id);
    expect(handleOf(issued.handle)).toEqual({
      kind: "lease",
      lease_id: issued.secret.lease_id,
      accessor: lease?.ownerAccessor,
    });
    expect(issued.handle).not.toContain(data.password);
    expect(sim.isDbUserLive(data.username)).toBe(true);
    expect(issued.secret).not.toHaveProperty("token");
  });

  it("reads through an owner token of its own that names the credential, lasts the grant and cannot be renewed", async () => {
    const { provider, sim } = await setup();
    const request = issueRequest("reports-db", { ttlSeconds: 120, taskId: "tsk_own" });
    const issued = await provider.issue(request);
    const lease = sim.liveLeases().find((l) => l.id === issued.secret.lease_id);
    const owner = sim.liveTokens().find((t) => t.accessor === lease?.ownerAccessor);
    expect(owner).toMatchObject({
      orphan: false,
      numUses: 0,
      path: "auth/token/create",
      policies: ["credbroker", "default"],
      meta: {
        credential_id: request.credentialId,
        task_id: "tsk_own",
        agent: "ci:agent",
        profile: "reports-db",
        purpose: "lease-owner",
      },
    });
    expect(Math.abs((owner?.expiresAt ?? 0) - (Date.now() + 120_000))).toBeLessThan(2_000);
    await provider.revoke({
      credentialId: request.credentialId,
      handle: issued.handle,
      expiresAt: issued.expiresAt,
    });
    expect(sim.isLeaseLive(issued.secret.lease_id as string)).toBe(false);
    expect(sim.isAccessorLive(lease?.ownerAccessor ?? "")).toBe(false);
  });

  it("a lease recorded before owner tokens existed (no accessor in its handle) is still revoked", async () => {
    const { provider, sim } = await setup();
    const issued = await provider.issue(issueRequest("reports-db"));
    const legacy = JSON.stringify({ kind: "lease", lease_id: issued.secret.lease_id });
    await provider.revoke({ credentialId: "crd_old", handle: legacy, expiresAt: issued.expiresAt });
    expect(sim.isLeaseLive(issued.secret.lease_id as string)).toBe(false);
  });

  it("shortens a lease longer than the grant with sys/leases/renew; the expiry is what Vault confirms", async () => {
    const { provider, sim } = await setup();
    const before = Date.now();
    const issued = await provider.issue(issueRequest("reports-db", { ttlSeconds: 120 }));
    const lease = sim.liveLeases().find((l) => l.id === issued.secret.lease_id);
    expect(lease?.expiresAt).toBeGreaterThanOrEqual(before + 119_000);
    expect(lease?.expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
    expect(Math.abs(issued.expiresAt - (lease?.expiresAt ?? 0))).toBeLessThan(1_000);
    expect(sim.requests.filter((r) => r.path === "sys/leases/renew")).toHaveLength(1);
  });

  it("keeps a lease already shorter than the grant as it is", async () => {
    const { provider, sim } = await setup();
    const issued = await provider.issue(issueRequest("tickets-db", { ttlSeconds: 600 }));
    expect(issued.expiresAt - Date.now()).toBeGreaterThan(298_000);
    expect(issued.expiresAt - Date.now()).toBeLessThanOrEqual(300_000);
    expect(sim.requests.some((r) => r.path === "sys/leases/renew")).toBe(false);
  });

  it("never lets the credential run past the task's deadline", async () => {
    const { provider } = await setup();
    const deadline = Date.now() + 45_500;
    const issued = await provider.issue(
      issueRequest("reports-db", { ttlSeconds: 600, taskDeadline: deadline }),
    );
    expect(issued.expiresAt).toBeLessThanOrEqual(deadline);
    expect(issued.expiresAt).toBeGreaterThan(deadline - 3_000);
  });

  it("a failure while binding the lease revokes it at once: a certain failure, nothing left alive", async () => {
    const { provider, sim } = await setup();
    sim.failNext(1, "error500", /^sys\/leases\/renew$/);
    await expect(provider.issue(issueRequest("reports-db"))).rejects.toBeInstanceOf(PermanentProviderError);
    expect(sim.liveLeases()).toEqual([]);
  });

  it("a lease that could not be revoked after a failed binding is handed to the broker's defensive revocation", async () => {
    const { provider, sim } = await setup();
    sim.failNext(1, "error500", /^sys\/leases\/renew$/);
    sim.failNext(1, "error500", /^sys\/leases\/revoke$/);
    sim.failNext(1, "error500", /^auth\/token\/revoke-accessor$/);
    const request = issueRequest("reports-db");
    await expect(provider.issue(request)).rejects.toBeInstanceOf(TransientProviderError);
    expect(sim.liveLeases()).toHaveLength(1);
    await provider.revoke({
      credentialId: request.credentialId,
      handle: null,
      expiresAt: Date.now(),
      profile: "reports-db",
    });
    expect(sim.liveLeases()).toEqual([]);
    expect(sim.liveTokens().filter((t) => t.meta?.credential_id === request.credentialId)).toEqual([]);
  });
});

describe("token mode", () => {
  it("creates an orphan, non-renewable token with the profile's policies, bounded TTL and the task in its name", async () => {
    const { provider, sim } = await setup();
    const request = issueRequest("reports-token", { ttlSeconds: 200, taskId: "tsk_AbC_9" });
    const issued = await provider.issue(request);
    expect(issued.secret).toEqual({ token: expect.stringMatching(/^hvs\./), accessor: expect.any(String) });
    expect(issued.downstreamAccount).toBe("token-credbroker-tsk-AbC-9");
    expect(handleOf(issued.handle)).toEqual({ kind: "token", accessor: issued.secret.accessor });
    const token = sim.liveTokens().find((t) => t.accessor === issued.secret.accessor);
    expect(token).toMatchObject({
      orphan: true,
      policies: ["default", "reports-read"],
      displayName: "token-credbroker-tsk-AbC-9",
      meta: {
        credential_id: request.credentialId,
        task_id: "tsk_AbC_9",
        agent: "ci:agent",
        profile: "reports-token",
      },
      path: "auth/token/create-orphan",
    });
    expect(Math.abs((token?.expiresAt ?? 0) - issued.expiresAt)).toBeLessThan(1_000);
  });

  it("passes num_uses, and can create through a token role instead of create-orphan", async () => {
    const { provider, sim } = await setup({ tokenRole: "credbroker" });
    const issued = await provider.issue(issueRequest("one-shot-token"));
    const token = sim.liveTokens().find((t) => t.accessor === issued.secret.accessor);
    expect(token).toMatchObject({ numUses: 3, orphan: true, path: "auth/token/create/credbroker" });
  });

  it("minting an agent token does not change the broker's own identity at Vault", async () => {
    const { provider, sim, brokerToken } = await setup();
    await provider.issue(issueRequest("reports-token"));
    const secret = await provider.issue(issueRequest("reports-db"));
    const lease = sim.liveLeases().find((l) => l.id === secret.secret.lease_id);
    const owner = sim.liveTokens().find((t) => t.accessor === lease?.ownerAccessor);
    expect(owner?.meta?.purpose).toBe("lease-owner");
    expect(sim.isTokenLive(brokerToken)).toBe(true);
  });
});

describe("issuance failures say whether anything may exist at Vault", () => {
  it("sealed or refusing connections: permanent (nothing was created)", async () => {
    const { provider, sim } = await setup();
    sim.seal();
    await expect(provider.issue(issueRequest("reports-token"))).rejects.toBeInstanceOf(
      PermanentProviderError,
    );
    sim.unseal();
    await sim.goOffline();
    await expect(provider.issue(issueRequest("reports-db"))).rejects.toBeInstanceOf(PermanentProviderError);
  });

  it("no answer (timeout, reset): transient, since Vault may have acted", async () => {
    const { provider, sim } = await setup({ timeoutMs: 300 });
    sim.failNext(1, "reset", /^database\//);
    await expect(provider.issue(issueRequest("reports-db"))).rejects.toBeInstanceOf(TransientProviderError);
    sim.failNext(1, "slow", /^auth\/token\/create-orphan$/);
    await expect(provider.issue(issueRequest("reports-token"))).rejects.toThrow(
      /Vault unreachable while issuing reports-token \(ETIMEDOUT|ECONNABORTED/,
    );
  });
});

describe("revocation", () => {
  it("revoking a lease or a token kills it at Vault, and revoking again succeeds", async () => {
    const { provider, sim } = await setup();
    for (const profile of ["reports-db", "reports-token"]) {
      const issued = await provider.issue(issueRequest(profile));
      const revoke = { credentialId: "c", handle: issued.handle, expiresAt: issued.expiresAt };
      await provider.revoke(revoke);
      await provider.revoke(revoke);
    }
    expect(sim.liveLeases()).toEqual([]);
    expect(sim.liveTokens().filter((t) => t.meta?.credential_id)).toEqual([]);
  });

  it("a token whose handle was never recorded is found by its metadata and revoked", async () => {
    const { provider, sim } = await setup();
    const request = issueRequest("reports-token");
    const issued = await provider.issue(request);
    await provider.revoke({
      credentialId: request.credentialId,
      handle: null,
      expiresAt: issued.expiresAt,
      profile: "reports-token",
    });
    expect(sim.isAccessorLive(String(issued.secret.accessor))).toBe(false);
    const longAgo = Date.now() - 600_000;
    await expect(
      provider.revoke({
        credentialId: "crd_never",
        handle: null,
        expiresAt: Date.now() + 1000,
        profile: "reports-token",
        createdAt: longAgo,
      }),
    ).resolves.toBeUndefined();
  });

  it("an unanswered token create that may still land at Vault keeps the revocation retrying", async () => {
    const { provider } = await setup();
    const failure = provider.revoke({
      credentialId: "crd_inflight",
      handle: null,
      expiresAt: Date.now() + 300_000,
      profile: "reports-token",
      createdAt: Date.now() - 1_000,
    });
    await expect(failure).rejects.toBeInstanceOf(TransientProviderError);
    await expect(failure).rejects.toThrow(/may still take effect until/);
  });

  it("a lease whose id was never recorded is found through its owner token's metadata and revoked with it", async () => {
    const { provider, sim } = await setup();
    const request = issueRequest("reports-db");
    const issued = await provider.issue(request);
    const data = issued.secret.data as { username: string };
    await provider.revoke({
      credentialId: request.credentialId,
      handle: null,
      expiresAt: issued.expiresAt,
      profile: "reports-db",
      createdAt: Date.now() - 1_000,
    });
    expect(sim.isLeaseLive(issued.secret.lease_id as string)).toBe(false);
    expect(sim.isDbUserLive(data.username)).toBe(false);
    expect(sim.liveTokens().filter((t) => t.meta?.credential_id === request.credentialId)).toEqual([]);
  });

  it("no owner token for an unrecorded lease: nothing alive once an unanswered read can no longer land", async () => {
    const { provider } = await setup();
    const unrecorded = (createdAt: number) =>
      provider.revoke({
        credentialId: "crd_x",
        handle: null,
        expiresAt: Date.now() + 60_000,
        profile: "reports-db",
        createdAt,
      });
    await expect(unrecorded(Date.now())).rejects.toBeInstanceOf(TransientProviderError);
    await expect(unrecorded(Date.now() - 10 * 60_000)).resolves.toBeUndefined();
  });

  it("sealed, 5xx, reset, timeouts and backend failures are transient; 403 is permanent", async () => {
    const { provider, sim } = await setup({ timeoutMs: 300 });
    const issued = await provider.issue(issueRequest("reports-db"));
    const revoke = () =>
      provider.revoke({ credentialId: "c", handle: issued.handle, expiresAt: issued.expiresAt });
    const faults: Array<() => void> = [
      () => sim.seal(),
      () => sim.failNext(1, "error500", /revoke/),
      () => sim.failNext(1, "reset", /revoke/),
      () => sim.failBackendRevocations(1),
      // Last: Vault still performs the slow call after the broker gave up on it.
      () => sim.failNext(1, "slow", /revoke/),
    ];
    for (const inject of faults) {
      inject();
      await expect(revoke()).rejects.toBeInstanceOf(TransientProviderError);
      sim.unseal();
    }
    sim.setPolicy("credbroker", { "auth/token/lookup-self": ["read"] });
    await expect(revoke()).rejects.toBeInstanceOf(PermanentProviderError);
    await expect(revoke()).rejects.toThrow(/403 permission denied/);
  });
});

describe("the broker's own Vault session", () => {
  it("logs in with AppRole, and after its token is revoked logs in again instead of failing", async () => {
    const vault = await startBrokerVaultSim();
    env = {
      ...vault,
      ...buildTestVaultProvider({
        address: vault.sim.address,
        login: {
          method: "approle",
          mount: "approle",
          roleId: "credbroker-role-id",
          secretId: "credbroker-secret-id",
        },
      }),
    };
    await env.provider.issue(issueRequest("reports-db"));
    const first = vault.sim.liveTokens().find((t) => t.path === "auth/approle/login");
    expect(first?.orphan).toBe(true);
    await fetch(`${vault.sim.address}/v1/auth/token/revoke-accessor`, {
      method: "POST",
      headers: { "x-vault-token": vault.sim.rootToken },
      body: JSON.stringify({ accessor: first?.accessor }),
    });
    await expect(env.provider.issue(issueRequest("reports-db"))).resolves.toMatchObject({ notes: [] });
    expect(vault.sim.liveTokens().filter((t) => t.path === "auth/approle/login")).toHaveLength(1);
  });

  it("an AppRole token that can no longer be renewed is replaced by a fresh login", async () => {
    const vault = await startBrokerVaultSim();
    env = {
      ...vault,
      ...buildTestVaultProvider({
        address: vault.sim.address,
        login: {
          method: "approle",
          mount: "approle",
          roleId: "credbroker-role-id",
          secretId: "credbroker-secret-id",
        },
      }),
    };
    env.session.start();
    const logins = () => vault.sim.liveTokens().filter((t) => t.path === "auth/approle/login");
    await expect.poll(() => logins().length, { timeout: 2_000 }).toBe(1);
    const first = logins()[0]?.accessor;
    await fetch(`${vault.sim.address}/v1/auth/token/revoke-accessor`, {
      method: "POST",
      headers: { "x-vault-token": vault.sim.rootToken },
      body: JSON.stringify({ accessor: first }),
    });
    await env.session.renew();
    await expect
      .poll(() => logins().map((t) => t.accessor), { timeout: 2_000 })
      .toEqual([expect.not.stringMatching(first ?? "")]);
  });

  it("renews its token with renew-self and learns the new expiry", async () => {
    const vault = await startBrokerVaultSim({ brokerTokenTtlSeconds: 120 });
    env = {
      ...vault,
      ...buildTestVaultProvider({
        address: vault.sim.address,
        login: { method: "token", token: vault.brokerToken },
      }),
    };
    env.session.start();
    await expect.poll(() => env?.session.tokenExpiresAt(), { timeout: 2_000 }).not.toBeNull();
    await env.session.renew();
    expect(vault.sim.requests.some((r) => r.path === "auth/token/renew-self" && r.status === 200)).toBe(true);
    expect((env.session.tokenExpiresAt() ?? 0) - Date.now()).toBeGreaterThan(118_000);
  });

  it("with a dead operator token, calls fail permanently with a message that says so", async () => {
    const { provider, sim, brokerToken } = await setup();
    await fetch(`${sim.address}/v1/auth/token/revoke`, {
      method: "POST",
      headers: { "x-vault-token": sim.rootToken },
      body: JSON.stringify({ token: brokerToken }),
    });
    await expect(provider.issue(issueRequest("reports-db"))).rejects.toThrow(
      /broker's own Vault token is invalid/,
    );
  });

  it("sends the namespace header on every call", async () => {
    const vault = await startBrokerVaultSim({ namespace: "team-a" });
    env = {
      ...vault,
      ...buildTestVaultProvider({
        address: vault.sim.address,
        login: { method: "token", token: vault.brokerToken },
        namespace: "team-a",
      }),
    };
    const issued = await env.provider.issue(issueRequest("reports-token"));
    expect(vault.sim.liveTokens().find((t) => t.accessor === issued.secret.accessor)?.namespace).toBe(
      "team-a",
    );
  });
});
