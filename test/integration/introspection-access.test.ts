import { randomUUID } from "node:crypto";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";

/**
 * Who may introspect a signer token (RFC 7662 §4: only authorised protected resources). Resource servers
 * authenticate with plain fetch and the RFC encodings (openid-client is not a dependency): HTTP Basic per
 * RFC 6749 §2.3.1, and RFC 7523 client assertions in a form body.
 */

const INTROSPECT_URL = "http://127.0.0.1:1/v1/introspect";
/** A secret with characters RFC 6749 §2.3.1 makes the client form-encode before base64. */
const TICKETS_SECRET = "tickets+secret:with/odd%chars and spaces-0123456789";
const REPORTS_SECRET = "reports-secret-0123456789-0123456789-abcdef";
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

let h: Harness;
let agent: string;
let privateKey: CryptoKey;
let publicJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair("ES256");
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: "rs-key-1", alg: "ES256", use: "sig" };
  h = await startHarness({
    name: "introspection-access",
    config: {
      resource_servers: [
        {
          client_id: "tickets-api",
          secret_env: "TICKETS_RS_SECRET",
          audiences: ["https://tickets.internal"],
        },
        {
          client_id: "reports-api",
          secret_env: "REPORTS_RS_SECRET",
          audiences: ["https://reports.internal"],
        },
        { client_id: "tickets-jwt", jwks: { keys: [publicJwk] }, audiences: ["https://tickets.internal"] },
      ],
    },
    env: { TICKETS_RS_SECRET: TICKETS_SECRET, REPORTS_RS_SECRET: REPORTS_SECRET },
  });
  agent = await h.token("summariser");
});
afterAll(async () => h?.close());

/** A tickets-api token of a fresh task that `ci:summariser` runs for alice@example.com. */
async function ticketsToken(): Promise<{ token: string; taskId: string }> {
  const task = await h.call("POST", "/v1/tasks", {
    token: agent,
    body: { intent: "read tickets", ttl_seconds: 600, initiator: { subject: "alice@example.com" } },
  });
  const cred = await h.call("POST", `/v1/tasks/${task.body.task_id}/credentials`, {
    token: agent,
    body: { profile: "tickets-api", scopes: ["tickets:read"], reason: "list incidents" },
  });
  expect(cred.status).toBe(201);
  return { token: cred.body.secret.token, taskId: task.body.task_id };
}

/** application/x-www-form-urlencoded encoding of one value. */
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

const basic = (clientId: string, secret: string) =>
  `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString("base64")}`;

/** POSTs a form body to /v1/introspect as an off-the-shelf RFC 7662 client would. */
async function introspectForm(fields: Record<string, string>, authorization?: string) {
  const res = await fetch(`${h.baseUrl}/v1/introspect`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
      ...(authorization ? { authorization } : {}),
    },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}

async function clientAssertion(claims: { aud?: string; jti?: string; iss?: string } = {}) {
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: "rs-key-1" })
    .setIssuer(claims.iss ?? "tickets-jwt")
    .setSubject("tickets-jwt")
    .setAudience(claims.aud ?? INTROSPECT_URL)
    .setIssuedAt()
    .setExpirationTime("60s")
    .setJti(claims.jti ?? randomUUID())
    .sign(privateKey);
}

async function introspectDecisions(taskId: string, operator: string) {
  const audit = await h.call("GET", `/v1/audit?task_id=${taskId}`, { token: operator });
  expect(audit.status).toBe(200);
  return audit.body.events
    .filter((e: { decision: { action: string } | null }) => e.decision?.action === "Introspect")
    .map((e: { actor: string; decision: { effect: string } }) => `${e.actor}:${e.decision.effect}`);
}

describe("introspection access", () => {
  it("an unrelated workload introspecting another task's token gets only {active: false}, and the denial is audited", async () => {
    const { token, taskId } = await ticketsToken();
    const intruder = await h.token("intruder");
    const json = await h.call("POST", "/v1/introspect", { token: intruder, body: { token } });
    const form = await introspectForm({ token, token_type_hint: "access_token" }, `Bearer ${intruder}`);
    for (const answer of [json, form]) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ active: false });
      expect(answer.text).not.toContain("alice@example.com");
      expect(answer.headers.get("cache-control")).toBe("no-store");
    }
    const garbage = await h.call("POST", "/v1/introspect", { token: intruder, body: { token: "not-a-jwt" } });
    expect(garbage.text).toBe(json.text);
    const operator = await h.token("operator");
    expect(await introspectDecisions(taskId, operator)).toEqual(["ci:intruder:deny", "ci:intruder:deny"]);
  });

  it("the token's own agent and the operator still get active: true with the claims", async () => {
    const { token, taskId } = await ticketsToken();
    const operator = await h.token("operator");
    for (const caller of [agent, operator]) {
      const res = await h.call("POST", "/v1/introspect", { token: caller, body: { token } });
      expect(res.body).toMatchObject({ active: true, task_id: taskId, initiator: "alice@example.com" });
    }
  });

  it("the audience's resource server with client_secret_basic gets active: true with the claims", async () => {
    const { token, taskId } = await ticketsToken();
    const res = await introspectForm({ token }, basic("tickets-api", TICKETS_SECRET));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      active: true,
      token_type: "Bearer",
      aud: "https://tickets.internal",
      sub: "ci:summariser",
      task_id: taskId,
      initiator: "alice@example.com",
      scope: "tickets:read",
    });
    const operator = await h.token("operator");
    expect(await introspectDecisions(taskId, operator)).toEqual(["rs:tickets-api:allow"]);
  });

  it("a resource server authorised for another audience gets {active: false}", async () => {
    const { token } = await ticketsToken();
    const res = await introspectForm({ token }, basic("reports-api", REPORTS_SECRET));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: false });
    expect(res.text).not.toContain("alice@example.com");
  });

  it("a wrong client secret, or an unknown client, is 401 invalid_client with a Basic challenge", async () => {
    const { token } = await ticketsToken();
    for (const authorization of [
      basic("tickets-api", `${TICKETS_SECRET}x`),
      basic("tickets-api", REPORTS_SECRET),
      basic("nobody", TICKETS_SECRET),
      "Basic !!!",
    ]) {
      const res = await introspectForm({ token }, authorization);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        error: "invalid_client",
        error_description: "Client authentication failed.",
      });
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
      expect(res.text).not.toContain("alice@example.com");
    }
  });

  it("private_key_jwt authenticates a resource server, and a replayed client assertion is refused", async () => {
    const { token, taskId } = await ticketsToken();
    const assertion = await clientAssertion();
    const fields = { token, client_assertion_type: JWT_BEARER, client_assertion: assertion };
    const first = await introspectForm({ ...fields, client_id: "tickets-jwt" });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ active: true, task_id: taskId, initiator: "alice@example.com" });

    const replayed = await introspectForm(fields);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatchObject({ error: "invalid_client" });
    expect(replayed.text).not.toContain("alice@example.com");

    const toIssuer = await introspectForm({
      ...fields,
      client_assertion: await clientAssertion({ aud: "http://127.0.0.1:1" }),
    });
    expect(toIssuer.body).toMatchObject({ active: true });
  });

  it("a client assertion for another audience, from another issuer or of an unknown type is 401 invalid_client", async () => {
    const { token } = await ticketsToken();
    const cases = [
      {
        client_assertion_type: JWT_BEARER,
        client_assertion: await clientAssertion({ aud: "https://elsewhere" }),
      },
      { client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion({ iss: "tickets-api" }) },
      { client_assertion_type: "urn:example:other", client_assertion: await clientAssertion() },
      { client_assertion_type: JWT_BEARER, client_assertion: "not-a-jwt" },
    ];
    for (const fields of cases) {
      const res = await introspectForm({ token, ...fields });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: "invalid_client" });
    }
    const twoMethods = await introspectForm(
      { token, client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion() },
      basic("tickets-api", TICKETS_SECRET),
    );
    expect(twoMethods.status).toBe(401);
  });

  it("a revoked token is inactive for its own resource server too", async () => {
    const { token, taskId } = await ticketsToken();
    await h.call("POST", `/v1/tasks/${taskId}/close`, { token: agent });
    const operator = await h.token("operator");
    const answer = await waitFor(
      async () => {
        const res = await introspectForm({ token }, basic("tickets-api", TICKETS_SECRET));
        return res.body.active === false ? res.body : null;
      },
      5_000,
      "the token revoked",
    );
    expect(answer).toEqual({ active: false });
    const decisions = await introspectDecisions(taskId, operator);
    expect(decisions.every((d: string) => d === "rs:tickets-api:allow")).toBe(true);
  });
});
