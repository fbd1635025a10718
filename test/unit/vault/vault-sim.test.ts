import { afterEach, describe, expect, it } from "vitest";
import { APPROLE, type BrokerVaultSim, startBrokerVaultSim } from "../../sims/vault/vault-sim-fixtures.js";
import { PERMISSION_DENIED } from "../../sims/vault/vault-sim-wire.js";

/** The simulator is only useful if it behaves like Vault; these pin the behaviours the provider relies on. */

let current: BrokerVaultSim | undefined;
let clock = 1_700_000_000_000;
afterEach(async () => {
  await current?.sim.close();
  current = undefined;
});

async function start(options: Parameters<typeof startBrokerVaultSim>[0] = {}): Promise<BrokerVaultSim> {
  clock = 1_700_000_000_000;
  current = await startBrokerVaultSim({ now: () => clock, ...options });
  return current;
}

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read Vault's JSON shapes
  body: any;
}

async function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; namespace?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers["x-vault-token"] = options.token;
  if (options.namespace) headers["x-vault-namespace"] = options.namespace;
  const res = await fetch(`${current?.sim.address}/v1/${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe("database dynamic secrets", () => {
  it("every read creates a fresh user with a lease of the role's default TTL", async () => {
    const { brokerToken } = await start();
    const first = await call("GET", "database/creds/reports-ro", { token: brokerToken });
    const second = await call("GET", "database/creds/reports-ro", { token: brokerToken });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      renewable: true,
      lease_duration: 3600,
      auth: null,
      mount_type: "database",
    });
    expect(first.body.lease_id).toMatch(/^database\/creds\/reports-ro\/[0-9A-Za-z]{24}$/);
    expect(first.body.data.username).toMatch(/^v-token-cr-reports--/);
    expect(first.body.data.username).not.toBe(second.body.data.username);
    expect(first.body.data.password).not.toBe(second.body.data.password);
  });

  it("an unknown role is a 400 with Vault's message", async () => {
    const { brokerToken } = await start();
    expect(await call("GET", "database/creds/nope", { token: brokerToken })).toEqual({
      status: 400,
      body: { errors: ["unknown role: nope"] },
    });
  });
});

describe("leases", () => {
  it("renew with a smaller increment shortens the lease, and lookup shows it (also at top level)", async () => {
    const { brokerToken } = await start();
    const lease = (await call("GET", "database/creds/reports-ro", { token: brokerToken })).body.lease_id;
    const renewed = await call("PUT", "sys/leases/renew", {
      token: brokerToken,
      body: { lease_id: lease, increment: 60 },
    });
    expect(renewed.body).toMatchObject({ lease_id: lease, lease_duration: 60, renewable: true });
    const looked = await call("PUT", "sys/leases/lookup", {
      body: { lease_id: lease },
      token: current?.sim.rootToken,
    });
    expect(looked.body.data).toMatchObject({ id: lease, ttl: 60, renewable: true });
    expect(looked.body.ttl).toBe(60);
  });

  it("renewal past the role's max is capped with Vault's warning", async () => {
    const { brokerToken } = await start();
    const lease = (await call("GET", "database/creds/tickets-rw", { token: brokerToken })).body.lease_id;
    const renewed = await call("PUT", "sys/leases/renew", {
      token: brokerToken,
      body: { lease_id: lease, increment: "2h" },
    });
    expect(renewed.body.lease_duration).toBe(900);
    expect(renewed.body.warnings).toEqual([
      'TTL of "2h0m0s" exceeded the effective max_ttl of "15m0s"; TTL value is capped accordingly',
    ]);
  });

  it("revoke is 204 and idempotent; async revoke is 202; a dead lease cannot be renewed", async () => {
    const { sim, brokerToken } = await start();
    const read = (await call("GET", "database/creds/reports-ro", { token: brokerToken })).body;
    const revoke = () =>
      call("PUT", "sys/leases/revoke", { token: brokerToken, body: { lease_id: read.lease_id } });
    expect((await revoke()).status).toBe(204);
    expect(sim.isDbUserLive(read.data.username)).toBe(false);
    expect((await revoke()).status).toBe(204);
    const renew = await call("PUT", "sys/leases/renew", {
      token: brokerToken,
      body: { lease_id: read.lease_id },
    });
    expect(renew).toEqual({ status: 400, body: { errors: ["lease not found"] } });
    const other = (await call("GET", "database/creds/reports-ro", { token: brokerToken })).body.lease_id;
    const lazy = await call("PUT", "sys/leases/revoke", {
      token: brokerToken,
      body: { lease_id: other, sync: false },
    });
    expect(lazy.status).toBe(202);
    expect(sim.isLeaseLive(other)).toBe(false);
  });

  it("a backend failure keeps the lease and answers 400 failed to revoke entry", async () => {
    const { sim, brokerToken } = await start();
    const lease = (await call("GET", "database/creds/reports-ro", { token: brokerToken })).body.lease_id;
    sim.failBackendRevocations(1);
    const failed = await call("PUT", "sys/leases/revoke", { token: brokerToken, body: { lease_id: lease } });
    expect(failed.status).toBe(400);
    expect(failed.body.errors[0]).toMatch(/^failed to revoke entry: /);
    expect(sim.isLeaseLive(lease)).toBe(true);
  });

  it("revoke-prefix needs sudo; root may use it, revoke-force ignores backend failures", async () => {
    const { sim, brokerToken } = await start();
    for (let i = 0; i < 3; i++) await call("GET", "database/creds/reports-ro", { token: brokerToken });
    const prefix = "sys/leases/revoke-prefix/database/creds/reports-ro";
    expect(await call("PUT", prefix, { token: brokerToken })).toEqual({
      status: 403,
      body: { errors: [PERMISSION_DENIED] },
    });
    sim.failBackendRevocations(1);
    expect((await call("PUT", prefix, { token: sim.rootToken })).body.errors[0]).toMatch(
      /^failed to revoke ".+" \(1 \/ 3\)/,
    );
    expect(
      (await call("PUT", "sys/leases/revoke-force/database/creds", { token: sim.rootToken })).status,
    ).toBe(204);
    expect(sim.liveLeases()).toEqual([]);
  });

  it("leases expire on their own when the clock passes their TTL", async () => {
    const { sim, brokerToken } = await start();
    const read = (await call("GET", "database/creds/tickets-rw", { token: brokerToken })).body;
    clock += 299_000;
    expect(sim.isLeaseLive(read.lease_id)).toBe(true);
    clock += 1_000;
    expect(sim.isLeaseLive(read.lease_id)).toBe(false);
    expect(sim.isDbUserLive(read.data.username)).toBe(false);
  });
});

describe("tokens", () => {
  const createOrphan = (token: string, body: Record<string, unknown>) =>
    call("POST", "auth/token/create-orphan", { token, body });

  it("create-orphan honours policies, ttl, explicit_max_ttl, num_uses, display_name and meta", async () => {
    const { brokerToken } = await start();
    const created = await createOrphan(brokerToken, {
      policies: ["reports-read"],
      ttl: "120s",
      explicit_max_ttl: "120s",
      num_uses: 5,
      display_name: "credbroker-tsk_ABC",
      meta: { credential_id: "crd_1" },
      renewable: false,
    });
    expect(created.status).toBe(200);
    expect(created.body.auth).toMatchObject({
      policies: ["default", "reports-read"],
      lease_duration: 120,
      renewable: false,
      orphan: true,
      num_uses: 5,
      token_type: "service",
      metadata: { credential_id: "crd_1" },
    });
    expect(created.body.auth.client_token).toMatch(/^hvs\./);
    const looked = await call("POST", "auth/token/lookup-accessor", {
      token: brokerToken,
      body: { accessor: created.body.auth.accessor },
    });
    expect(looked.body.data).toMatchObject({
      id: "",
      display_name: "token-credbroker-tsk-ABC",
      explicit_max_ttl: 120,
      ttl: 120,
      meta: { credential_id: "crd_1" },
      path: "auth/token/create-orphan",
    });
  });

  it("revoke-accessor is 204, then 400 invalid accessor; the token stops working", async () => {
    const { brokerToken } = await start();
    const { auth } = (await createOrphan(brokerToken, { policies: ["reports-read"], ttl: "60s" })).body;
    const revoke = () =>
      call("POST", "auth/token/revoke-accessor", { token: brokerToken, body: { accessor: auth.accessor } });
    expect((await revoke()).status).toBe(204);
    expect(await revoke()).toEqual({ status: 400, body: { errors: ["invalid accessor"] } });
    expect((await call("GET", "auth/token/lookup-self", { token: auth.client_token })).status).toBe(403);
  });

  it("revoking a token revokes its children and the leases they own; orphans survive", async () => {
    const { sim } = await start();
    sim.setPolicy("minter", { "auth/token/create": ["update"], "database/creds/*": ["read"] });
    const parent = sim.createToken({ policies: ["credbroker", "minter"] }).token;
    const child = (await call("POST", "auth/token/create", { token: parent, body: { policies: ["minter"] } }))
      .body.auth;
    const orphan = (await createOrphan(parent, { policies: ["credbroker"] })).body.auth;
    const lease = (await call("GET", "database/creds/reports-ro", { token: child.client_token })).body
      .lease_id;
    expect(
      (await call("POST", "auth/token/revoke", { token: sim.rootToken, body: { token: parent } })).status,
    ).toBe(204);
    expect(sim.isTokenLive(child.client_token)).toBe(false);
    expect(sim.isLeaseLive(lease)).toBe(false);
    expect(sim.isTokenLive(orphan.client_token)).toBe(true);
  });

  it("without sudo, child policies must be a subset of the parent's; a token role bounds them instead", async () => {
    const { sim } = await start();
    sim.setPolicy("minter", { "auth/token/create": ["update"] });
    const limited = sim.createToken({ policies: ["reports-read", "minter"] }).token;
    const widened = await call("POST", "auth/token/create", {
      token: limited,
      body: { policies: ["credbroker"] },
    });
    expect(widened).toEqual({ status: 400, body: { errors: ["child policies must be subset of parent"] } });
    const { brokerToken } = current ?? { brokerToken: "" };
    const viaRole = await call("POST", "auth/token/create/credbroker", {
      token: brokerToken,
      body: { policies: ["reports-read"] },
    });
    expect(viaRole.body.auth).toMatchObject({ orphan: true, policies: ["default", "reports-read"] });
    const outside = await call("POST", "auth/token/create/credbroker", {
      token: brokerToken,
      body: { policies: ["credbroker"] },
    });
    expect(outside.status).toBe(400);
  });

  it("a token with num_uses dies after its last use", async () => {
    const { sim, brokerToken } = await start();
    const { auth } = (await createOrphan(brokerToken, { policies: ["reports-read"], num_uses: 1 })).body;
    expect((await call("GET", "auth/token/lookup-self", { token: auth.client_token })).status).toBe(200);
    expect(sim.isTokenLive(auth.client_token)).toBe(false);
  });

  it("tokens expire with the clock, and renew-self extends only up to the max TTL", async () => {
    const { sim } = await start();
    const { token } = sim.createToken({
      policies: ["credbroker"],
      ttlSeconds: 60,
      explicitMaxTtlSeconds: 90,
    });
    clock += 50_000;
    const renewed = await call("POST", "auth/token/renew-self", { token, body: { increment: "60s" } });
    expect(renewed.body.auth.lease_duration).toBe(40);
    expect(renewed.body.warnings[0]).toContain("exceeded the effective max_ttl");
    clock += 40_000;
    expect(sim.isTokenLive(token)).toBe(false);
  });

  it("AppRole login returns an orphan token with the role's policies", async () => {
    await start();
    const login = await call("POST", "auth/approle/login", {
      body: { role_id: APPROLE.roleId, secret_id: APPROLE.secretId },
    });
    expect(login.body.auth).toMatchObject({
      orphan: true,
      policies: ["credbroker", "default"],
      lease_duration: 3600,
    });
    const bad = await call("POST", "auth/approle/login", {
      body: { role_id: APPROLE.roleId, secret_id: "wrong" },
    });
    expect(bad.status).toBe(400);
  });
});

describe("access control, namespaces and faults", () => {
  it("paths outside the token's policy and unknown tokens get 403 permission denied", async () => {
    const { brokerToken } = await start();
    const denied = { status: 403, body: { errors: [PERMISSION_DENIED] } };
    expect(await call("POST", "auth/token/revoke", { token: brokerToken, body: { token: "x" } })).toEqual(
      denied,
    );
    expect(await call("GET", "database/creds/reports-ro", { token: "hvs.nope" })).toEqual(denied);
    expect(await call("GET", "database/creds/reports-ro")).toEqual(denied);
  });

  it("a token works only in the namespace it was created in", async () => {
    const { sim } = await start();
    const { token } = sim.createToken({ policies: ["credbroker"], namespace: "team-a" });
    const inside = await call("GET", "database/creds/reports-ro", { token, namespace: "team-a/" });
    expect(inside.status).toBe(200);
    expect(inside.body.lease_id).toMatch(/\.[0-9A-Za-z]{5}$/);
    expect((await call("GET", "database/creds/reports-ro", { token })).status).toBe(403);
    expect(sim.liveLeases()[0]?.namespace).toBe("team-a");
  });

  it("sealed answers 503 Vault is sealed, health says sealed", async () => {
    const { sim, brokerToken } = await start();
    sim.seal();
    expect(await call("GET", "database/creds/reports-ro", { token: brokerToken })).toEqual({
      status: 503,
      body: { errors: ["Vault is sealed"] },
    });
    expect((await call("GET", "sys/health")).body.sealed).toBe(true);
    sim.unseal();
    expect((await call("GET", "database/creds/reports-ro", { token: brokerToken })).status).toBe(200);
  });

  it("injected faults hit only the matching requests, once each", async () => {
    const { sim, brokerToken } = await start();
    sim.failNext(1, "error500", /^database\//);
    sim.failNext(1, "reset", /^auth\/token\/lookup-self$/);
    expect(
      (await call("GET", "auth/token/lookup-self", { token: brokerToken }).catch(() => ({ status: 0 })))
        .status,
    ).toBe(0);
    expect((await call("GET", "database/creds/reports-ro", { token: brokerToken })).status).toBe(500);
    expect((await call("GET", "database/creds/reports-ro", { token: brokerToken })).status).toBe(200);
  });

  it("offline refuses connections until it is back online on the same address", async () => {
    const { sim, brokerToken } = await start();
    await sim.goOffline();
    await expect(call("GET", "auth/token/lookup-self", { token: brokerToken })).rejects.toThrow();
    await sim.goOnline();
    expect((await call("GET", "auth/token/lookup-self", { token: brokerToken })).status).toBe(200);
  });
});
