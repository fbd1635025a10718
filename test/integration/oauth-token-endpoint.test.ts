import type { Server } from "node:http";
import express from "express";
import { auth } from "express-oauth2-jwt-bearer";
import { decodeJwt } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type Harness, startHarness } from "../support/broker-harness.js";
import { TEST_POLICY } from "../support/test-policy.js";

/**
 * The token endpoint's JWT-bearer grant (RFC 7523 §2.1 with RFC 8707 `resource`), driven by openid-client's
 * generic grant request: a task token or a workload JWT + task_id becomes a signer credential of the task,
 * listed, audited, in evidence and revoked with it; bad input gets RFC 6749 errors, never a 5xx.
 */

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const TICKETS = "https://tickets.internal";
const POLICY = `${TEST_POLICY}
@id("no-reports-for-denied-intents")
forbid (principal, action == Credbroker::Action::"RequestCredential", resource)
when { context.profile == "reports-api" && context.task.intent == "deny me" };
`;

let h: Harness;
let publicUrl: string;
let agent: string;
let operator: string;
let config: client.Configuration;

beforeAll(async () => {
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  h = await startHarness({
    name: "oauth-token",
    listenPort: port,
    policy: POLICY,
    config: { server: { public_url: publicUrl } },
  });
  [agent, operator] = await Promise.all([h.token("summariser"), h.token("operator")]);
  config = await client.discovery(new URL(publicUrl), "agent-runtime", undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
});
afterAll(async () => h?.close());

async function openTask(body: Record<string, unknown> = {}) {
  const res = await h.call("POST", "/v1/tasks", {
    token: agent,
    body: { intent: "summarise incidents", ttl_seconds: 600, ...body },
  });
  expect(res.status).toBe(201);
  return res.body as { task_id: string; task_token: string };
}

/** What a token endpoint answers, as the tests read it. */
interface TokenAnswer {
  error?: string;
  error_description?: string;
  [member: string]: unknown;
}

/** A raw token request, for the answers openid-client would turn into exceptions. */
async function tokenRequest(fields: Record<string, string | string[]>, contentType = "form") {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const one of Array.isArray(value) ? value : [value]) form.append(name, one);
  }
  const res = await fetch(`${publicUrl}/oauth/token`, {
    method: "POST",
    headers: {
      "content-type": contentType === "form" ? "application/x-www-form-urlencoded" : "application/json",
    },
    body: contentType === "form" ? form.toString() : JSON.stringify(fields),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as TokenAnswer };
}

describe("the JWT-bearer grant", () => {
  it("is advertised in the metadata with the token endpoint", () => {
    const metadata = config.serverMetadata();
    expect(metadata.token_endpoint).toBe(`${publicUrl}/oauth/token`);
    expect(metadata.grant_types_supported).toContain(JWT_BEARER);
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(["none"]);
  });

  it("turns a task token into an access token for the resource: a credential of the task", async () => {
    const task = await openTask({ profiles: ["tickets-api"] });
    const tokens = await client.genericGrantRequest(config, JWT_BEARER, {
      assertion: task.task_token,
      resource: TICKETS,
      scope: "tickets:read",
    });
    expect(tokens.token_type).toBe("bearer");
    expect(tokens.scope).toBe("tickets:read");
    expect(tokens.expires_in).toBeGreaterThan(590);
    expect(tokens.expires_in).toBeLessThanOrEqual(600); // the policy's @max_ttl beats the profile's 900 s
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: publicUrl,
      aud: TICKETS,
      sub: "ci:summariser",
      task_id: task.task_id,
    });

    const read = await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent });
    expect(read.body.credentials).toEqual([
      expect.objectContaining({ credential_id: claims.jti, profile: "tickets-api", state: "active" }),
    ]);
    const audit = await h.call("GET", `/v1/audit?task_id=${task.task_id}&limit=100`, { token: operator });
    const types = audit.body.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(["decision", "credential.issued"]));
    const decision = audit.body.events.find(
      (e: { decision?: { action: string } | null }) => e.decision?.action === "RequestCredential",
    );
    expect(decision.decision.effect).toBe("allow");
    const evidence = await h.call("GET", `/v1/tasks/${task.task_id}/evidence`, { token: agent });
    expect(JSON.stringify(evidence.body.credentials)).toContain(String(claims.jti));
  });

  it("a workload JWT with task_id works too; without one it is told how to get a task token", async () => {
    const task = await openTask();
    const tokens = await client.genericGrantRequest(config, JWT_BEARER, {
      assertion: agent,
      task_id: task.task_id,
      resource: TICKETS,
    });
    expect(decodeJwt(tokens.access_token).task_id).toBe(task.task_id);
    expect(tokens.scope).toBeUndefined();
    const noTask = await tokenRequest({ grant_type: JWT_BEARER, assertion: agent, resource: TICKETS });
    expect(noTask.status).toBe(400);
    expect(noTask.body.error).toBe("invalid_grant");
    expect(noTask.body.error_description).toMatch(/task_token/);
  });

  it("closing the task revokes the token and kills the task token at the endpoint", async () => {
    const task = await openTask();
    const tokens = await client.genericGrantRequest(config, JWT_BEARER, {
      assertion: task.task_token,
      resource: TICKETS,
    });
    await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    const introspected = await h.call("POST", "/v1/introspect", {
      token: agent,
      body: { token: tokens.access_token },
    });
    expect(introspected.body).toEqual({ active: false });
    const again = await tokenRequest({
      grant_type: JWT_BEARER,
      assertion: task.task_token,
      resource: TICKETS,
    });
    expect(again.body).toMatchObject({ error: "invalid_grant" });
    const withJwt = await tokenRequest({
      grant_type: JWT_BEARER,
      assertion: agent,
      task_id: task.task_id,
      resource: TICKETS,
    });
    expect(withJwt.body).toMatchObject({ error: "invalid_grant" });
  });

  it("the token it issues is accepted by express-oauth2-jwt-bearer for that resource", async () => {
    const app = express();
    app.use(auth({ issuerBaseURL: publicUrl, audience: TICKETS, strict: true }));
    app.get("/", (req, res) => void res.json({ task: req.auth?.payload.task_id }));
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
    });
    try {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      const task = await openTask();
      const tokens = await client.genericGrantRequest(config, JWT_BEARER, {
        assertion: task.task_token,
        resource: TICKETS,
      });
      const res = await fetch(`http://127.0.0.1:${port}/`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(await res.json()).toEqual({ task: task.task_id });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("token endpoint errors (RFC 6749 §5.2)", () => {
  it("answers each bad request with its code, a description, no-store, and never a 5xx", async () => {
    const task = await openTask({ profiles: ["tickets-api"] });
    const denied = await openTask({ intent: "deny me" });
    const stranger = await h.token("stranger");
    const cases: [Record<string, string | string[]>, string][] = [
      [{ assertion: task.task_token, resource: TICKETS }, "invalid_request"],
      [{ grant_type: "password", username: "a", password: "b" }, "unsupported_grant_type"],
      [{ grant_type: JWT_BEARER, resource: TICKETS }, "invalid_request"],
      [{ grant_type: JWT_BEARER, assertion: task.task_token }, "invalid_request"],
      [{ grant_type: JWT_BEARER, assertion: task.task_token, resource: "https://nowhere" }, "invalid_target"],
      [
        { grant_type: JWT_BEARER, assertion: task.task_token, resource: [TICKETS, TICKETS] },
        "invalid_target",
      ],
      [
        { grant_type: JWT_BEARER, assertion: task.task_token, resource: "https://reports.internal" },
        "invalid_target",
      ],
      [
        { grant_type: JWT_BEARER, assertion: task.task_token, resource: TICKETS, scope: "admin" },
        "invalid_scope",
      ],
      [{ grant_type: JWT_BEARER, assertion: "not.a.jwt", resource: TICKETS }, "invalid_grant"],
      [
        { grant_type: JWT_BEARER, assertion: stranger, task_id: task.task_id, resource: TICKETS },
        "invalid_grant",
      ],
      [
        { grant_type: JWT_BEARER, assertion: task.task_token, task_id: denied.task_id, resource: TICKETS },
        "invalid_grant",
      ],
      [
        { grant_type: JWT_BEARER, assertion: denied.task_token, resource: "https://reports.internal" },
        "invalid_grant",
      ],
      [
        { grant_type: [JWT_BEARER, JWT_BEARER], assertion: task.task_token, resource: TICKETS },
        "invalid_request",
      ],
    ];
    for (const [fields, error] of cases) {
      const res = await tokenRequest(fields);
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect(res.body.error, JSON.stringify(fields)).toBe(error);
      expect(res.body.error_description).toEqual(expect.any(String));
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
    const policy = await tokenRequest({
      grant_type: JWT_BEARER,
      assertion: denied.task_token,
      resource: "https://reports.internal",
    });
    expect(policy.body.error_description).toMatch(/no-reports-for-denied-intents/);
    const json = await tokenRequest(
      { grant_type: JWT_BEARER, assertion: task.task_token, resource: TICKETS },
      "json",
    );
    expect(json.body.error).toBe("invalid_request");
    const unknownRoute = await fetch(`${publicUrl}/oauth/nothing`, { method: "POST" });
    expect(unknownRoute.status).toBe(404);
    expect(((await unknownRoute.json()) as TokenAnswer).error).toBe("invalid_request");
  });

  it("openid-client surfaces them as ResponseBodyError with the RFC 6749 code", async () => {
    const task = await openTask();
    const error = await client
      .genericGrantRequest(config, JWT_BEARER, { assertion: task.task_token, resource: "https://nowhere" })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(client.ResponseBodyError);
    expect((error as client.ResponseBodyError).error).toBe("invalid_target");
  });
});

describe("rejected assertions at the token endpoint count against the address", () => {
  let guarded: Harness;
  afterAll(async () => guarded?.close());

  it("like bearer assertions on /v1: past the budget the address is refused everywhere", async () => {
    guarded = await startHarness({
      name: "oauth-token-guard",
      config: { limits: { rejected_assertions_per_address_per_minute: 3 } },
    });
    const grant = async () =>
      fetch(`${guarded.baseUrl}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: JWT_BEARER,
          assertion: "not.a.jwt",
          task_id: "tsk_x",
          resource: TICKETS,
        }).toString(),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await grant()).status);
    expect(statuses.slice(0, 3)).toEqual([400, 400, 400]);
    expect(statuses.at(-1)).toBe(429);
    const v1 = await guarded.call("GET", "/v1/whoami", { token: await guarded.token("summariser") });
    expect(v1.status).toBe(429);
  });
});
