import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectApiError } from "../support/api-errors.js";
import { type Harness, startHarness } from "../support/broker-harness.js";
import { delegateTo } from "../support/provider-delegate.js";

let h: Harness;
let agent: string;
let operator: string;

beforeAll(async () => {
  h = await startHarness({ name: "credentials" });
  agent = await h.token("summariser");
  operator = await h.token("operator");
});
afterAll(async () => h?.close());

async function openTask(ttlSeconds: number) {
  return (
    await h.call("POST", "/v1/tasks", {
      token: agent,
      body: { intent: "creds", ttl_seconds: ttlSeconds, initiator: { subject: "alice@example.com" } },
    })
  ).body;
}

const request = (taskId: string, body: Record<string, unknown>) =>
  h.call("POST", `/v1/tasks/${taskId}/credentials`, { token: agent, body });

async function jwks() {
  return createLocalJWKSet((await h.call("GET", "/.well-known/jwks.json")).body);
}

describe("credentials", () => {
  it("an issued signer token verifies against the JWKS and carries the RFC 9068 claims of the task", async () => {
    const task = await openTask(600);
    const res = await request(task.task_id, {
      profile: "tickets-api",
      ttl_seconds: 120,
      scopes: ["tickets:read"],
      reason: "list incidents",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const cred = res.body;
    expect(cred).toMatchObject({
      task_id: task.task_id,
      profile: "tickets-api",
      provider: "signer",
      ttl_seconds: 120,
      downstream: { account: "ci:summariser" },
      secret: { token_type: "Bearer" },
      notes: [],
    });
    expect(cred.credential_id).toMatch(/^crd_/);
    const { payload, protectedHeader } = await jwtVerify(cred.secret.token, await jwks(), {
      typ: "at+jwt",
      audience: "https://tickets.internal",
      issuer: "http://127.0.0.1:1",
    });
    expect(protectedHeader.alg).toBe("ES256");
    expect(payload).toMatchObject({
      sub: "ci:summariser",
      client_id: "ci:summariser",
      scope: "tickets:read",
      task_id: task.task_id,
      initiator: "alice@example.com",
      jti: cred.credential_id,
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(120);
    expect(Date.parse(cred.expires_at)).toBe((payload.exp ?? 0) * 1000);
  });

  it("the granted TTL is the minimum of request, profile max, policy @max_ttl and task remaining", async () => {
    const long = await openTask(3600);
    // profile tickets-api max 900, test policy @max_ttl("600"): a 5,000 s request gets 600.
    expect(
      (await request(long.task_id, { profile: "tickets-api", ttl_seconds: 5000 })).body.ttl_seconds,
    ).toBe(600);
    // reports-api: profile max 300 is below the policy's 600.
    expect((await request(long.task_id, { profile: "reports-api" })).body.ttl_seconds).toBe(300);
    expect((await request(long.task_id, { profile: "tickets-api", ttl_seconds: 30 })).body.ttl_seconds).toBe(
      30,
    );
    const short = await openTask(45);
    const capped = (await request(short.task_id, { profile: "tickets-api" })).body;
    expect(capped.ttl_seconds).toBeLessThanOrEqual(45);
    expect(capped.ttl_seconds).toBeGreaterThanOrEqual(43);
    expect(Date.parse(capped.expires_at)).toBeLessThanOrEqual(Date.parse(short.deadline));
  });

  it("key rotation keeps the previous key published so tokens it signed stay valid", async () => {
    const task = await openTask(600);
    const before = (await request(task.task_id, { profile: "tickets-api" })).body.secret.token;
    const kidsBefore = (await h.call("GET", "/.well-known/jwks.json")).body.keys.map(
      (k: { kid: string }) => k.kid,
    );
    expect((await h.call("POST", "/v1/admin/keys/rotate", { token: agent })).status).toBe(403);
    const rotated = await h.call("POST", "/v1/admin/keys/rotate", { token: operator });
    expect(rotated.status).toBe(200);
    expect(rotated.body.previous_kid).toBe(kidsBefore[0]);
    const kidsAfter = (await h.call("GET", "/.well-known/jwks.json")).body.keys.map(
      (k: { kid: string }) => k.kid,
    );
    expect(kidsAfter).toEqual(expect.arrayContaining([rotated.body.kid, rotated.body.previous_kid]));
    const after = (await request(task.task_id, { profile: "tickets-api" })).body.secret.token;
    const keys = await jwks();
    const old = await jwtVerify(before, keys, { typ: "at+jwt" });
    const fresh = await jwtVerify(after, keys, { typ: "at+jwt" });
    expect(old.protectedHeader.kid).toBe(rotated.body.previous_kid);
    expect(fresh.protectedHeader.kid).toBe(rotated.body.kid);
    const introspected = await h.call("POST", "/v1/introspect", { token: agent, body: { token: before } });
    expect(introspected.body.active).toBe(true);
  });

  it("introspection accepts form-encoded bodies and answers inactive for garbage", async () => {
    const res = await fetch(`${h.baseUrl}/v1/introspect`, {
      method: "POST",
      headers: { authorization: `Bearer ${agent}`, "content-type": "application/x-www-form-urlencoded" },
      body: "token=not-a-jwt",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ active: false });
    const unauthenticated = await h.call("POST", "/v1/introspect", { body: { token: "x" } });
    expect(unauthenticated.status).toBe(401);
  });
});

describe("a task that reaches its deadline while the provider issues", () => {
  let slow: Harness;
  let slowAgent: string;
  beforeAll(async () => {
    slow = await startHarness({
      name: "credentials-deadline",
      issuer: h.issuer,
      // The provider is asked with the deadline still ahead and works until it has passed.
      decorateProviders: (providers) =>
        providers.map((provider) =>
          delegateTo(provider, {
            async issue(request) {
              await new Promise((resolve) =>
                setTimeout(resolve, Math.max(0, request.taskDeadline - Date.now() + 50)),
              );
              return provider.issue(request);
            },
          }),
        ),
    });
    slowAgent = await slow.token("summariser");
  });
  afterAll(async () => slow?.close());

  it("answers 409 task_not_open, not a provider error, and issues nothing", async () => {
    const opened = await slow.call("POST", "/v1/tasks", {
      token: slowAgent,
      body: { intent: "late", ttl_seconds: 2 },
    });
    expect(opened.status, opened.text).toBe(201);
    const res = await slow.call("POST", `/v1/tasks/${opened.body.task_id}/credentials`, {
      token: slowAgent,
      body: { profile: "tickets-api" },
    });
    expectApiError(res, 409, "task_not_open");
    expect(res.text).not.toMatch(/eyJ/);
  });
});
