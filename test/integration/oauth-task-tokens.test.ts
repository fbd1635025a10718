import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";

/**
 * Task tokens (docs/oauth.md): `POST /v1/tasks` returns one, `POST /v1/tasks/{id}/task-token` refreshes it,
 * its claims follow draft-ietf-oauth-transaction-tokens, it never outlives its task, and it is dead
 * (introspection `active: false`, no refresh) as soon as the task closes.
 */

const RS_SECRET = "task-token-rs-secret-0123456789abcdef";
let h: Harness;
let agent: string;
let orchestrator: string;
let stranger: string;

beforeAll(async () => {
  h = await startHarness({
    name: "oauth-task-tokens",
    config: {
      oauth: { task_token_ttl_seconds: 120 },
      resource_servers: [
        { client_id: "tickets-rs", secret_env: "TT_RS_SECRET", audiences: ["https://tickets.internal"] },
      ],
    },
    env: { TT_RS_SECRET: RS_SECRET },
  });
  [agent, orchestrator, stranger] = await Promise.all([
    h.token("summariser"),
    h.token("orchestrator"),
    h.token("stranger"),
  ]);
});
afterAll(async () => h?.close());

async function openTask(token: string, body: Record<string, unknown> = {}) {
  const res = await h.call("POST", "/v1/tasks", {
    token,
    body: { intent: "summarise incidents", ttl_seconds: 600, ...body },
  });
  expect(res.status).toBe(201);
  return res.body;
}

const introspect = async (caller: string, token: string) =>
  (await h.call("POST", "/v1/introspect", { token: caller, body: { token } })).body;

describe("task tokens", () => {
  it("POST /v1/tasks returns the task object plus a task_token with transaction-token claims", async () => {
    const task = await openTask(orchestrator, {
      agent: "ci:summariser",
      initiator: { subject: "alice@example.com" },
      profiles: ["tickets-api"],
    });
    expect(task).toMatchObject({ state: "open", owner: "ci:orchestrator", agent: "ci:summariser" });
    expect(decodeProtectedHeader(task.task_token).typ).toBe("txntoken+jwt");
    const jwks = createRemoteJWKSet(new URL(`${h.baseUrl}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(task.task_token, jwks, {
      issuer: "http://127.0.0.1:1",
      audience: "http://127.0.0.1:1",
      typ: "txntoken+jwt",
    });
    expect(payload).toMatchObject({
      txn: task.task_id,
      sub: "ci:summariser",
      req_wl: "ci:orchestrator",
      purp: "summarise incidents",
      rctx: { initiator: "alice@example.com", initiator_verified: false },
      tctx: { profiles: ["tickets-api"], parent_task_id: null, depth: 0 },
    });
    expect(payload.exp! - payload.iat!).toBe(120);
    // Not an access token: a resource server checking typ at+jwt refuses it.
    await expect(jwtVerify(task.task_token, jwks, { typ: "at+jwt" })).rejects.toThrow();
  });

  it("never outlives its task", async () => {
    const task = await openTask(agent, { ttl_seconds: 40 });
    const { exp } = decodeJwt(task.task_token);
    expect(exp).toBe(Math.floor(Date.parse(task.deadline) / 1000));
  });

  it("is active at introspection for the task's workloads only, and dead once the task closes", async () => {
    const task = await openTask(orchestrator, { agent: "ci:summariser" });
    expect(await introspect(agent, task.task_token)).toMatchObject({
      active: true,
      token_type: "N_A",
      txn: task.task_id,
    });
    expect(await introspect(orchestrator, task.task_token)).toMatchObject({ active: true });
    expect(await introspect(stranger, task.task_token)).toEqual({ active: false });
    const basic = `Basic ${Buffer.from(`tickets-rs:${RS_SECRET}`).toString("base64")}`;
    const asRs = await h.call("POST", "/v1/introspect", {
      body: new URLSearchParams({ token: task.task_token }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic },
    });
    expect(asRs.body).toEqual({ active: false });

    await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: orchestrator });
    expect(await introspect(agent, task.task_token)).toEqual({ active: false });
    const refresh = await h.call("POST", `/v1/tasks/${task.task_id}/task-token`, { token: agent });
    expect(refresh.status).toBe(409);
    expect(refresh.body.error.code).toBe("task_not_open");
  });

  it("dies with its task at the deadline too", async () => {
    const task = await openTask(agent, { ttl_seconds: 2 });
    expect(await introspect(agent, task.task_token)).toMatchObject({ active: true });
    await waitFor(async () => !(await introspect(agent, task.task_token)).active, 6_000, "deadline");
  });

  it("refresh: a fresh token for the owner and the agent; 404 for strangers, 403 for an ancestor", async () => {
    const parent = await openTask(orchestrator, { agent: "ci:summariser" });
    for (const caller of [orchestrator, agent]) {
      const res = await h.call("POST", `/v1/tasks/${parent.task_id}/task-token`, { token: caller });
      expect(res.status).toBe(201);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.body).toMatchObject({ task_id: parent.task_id, expires_at: expect.any(String) });
      expect(decodeJwt(res.body.task_token).txn).toBe(parent.task_id);
    }
    const stray = await h.call("POST", `/v1/tasks/${parent.task_id}/task-token`, { token: stranger });
    expect(stray.status).toBe(404);
    const child = await openTask(agent, { parent_task_id: parent.task_id, ttl_seconds: 300 });
    const byAncestor = await h.call("POST", `/v1/tasks/${child.task_id}/task-token`, { token: orchestrator });
    expect(byAncestor.status).toBe(403);
    expect(byAncestor.body.error.details.rule).toBe("task_token_requires_owner_or_agent");
    const withBody = await h.call("POST", `/v1/tasks/${parent.task_id}/task-token`, {
      token: agent,
      body: { ttl_seconds: 5 },
    });
    expect(withBody.status).toBe(400);
  });

  it("a token with the task-token typ that the broker did not sign is inactive", async () => {
    const task = await openTask(agent);
    const { privateKey } = await generateKeyPair("ES256");
    const { kid } = decodeProtectedHeader(task.task_token);
    const forged = await new SignJWT(decodeJwt(task.task_token))
      .setProtectedHeader({ alg: "ES256", typ: "txntoken+jwt", kid })
      .sign(privateKey);
    expect(await introspect(agent, forged)).toEqual({ active: false });
  });
});
