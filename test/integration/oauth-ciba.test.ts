import { decodeJwt } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { TEST_POLICY_WITH_APPROVALS } from "../support/test-policy.js";

/**
 * Approvals over CIBA poll mode at the token endpoint: a held JWT-bearer request answers an `auth_req_id`
 * (the approval id) with `expires_in` and `interval`; openid-client's CIBA poll collects the token once the
 * approver decides, exactly once, with `authorization_pending`, `slow_down`, `access_denied` and
 * `expired_token` on the way.
 */

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CIBA = "urn:openid:params:grant-type:ciba";
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const TICKETS = "https://tickets.internal";
const POLICY = TEST_POLICY_WITH_APPROVALS;

let h: Harness;
let publicUrl: string;
let agent: string;
let approver: string;

beforeAll(async () => {
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  h = await startHarness({
    name: "oauth-ciba",
    listenPort: port,
    policy: POLICY,
    config: {
      server: { public_url: publicUrl },
      oauth: { ciba_interval_seconds: 1 },
      approvals: { ttl_seconds: 5 },
    },
  });
  [agent, approver] = await Promise.all([h.token("summariser"), h.token("approver-alice")]);
});
afterAll(async () => h?.close());

/** openid-client configured to authenticate as the requester with a task token (RFC 7523 §2.2). */
async function clientFor(assertion: string): Promise<client.Configuration> {
  const asRequester: client.ClientAuth = (_as, _client, body) => {
    body.set("client_assertion_type", ASSERTION_TYPE);
    body.set("client_assertion", assertion);
  };
  return client.discovery(new URL(publicUrl), "agent-runtime", undefined, asRequester, {
    execute: [client.allowInsecureRequests],
  });
}

/** Opens a task and asks for a write token, which the policy holds: the CIBA answer. */
async function heldRequest() {
  const task = (
    await h.call("POST", "/v1/tasks", {
      token: agent,
      body: { intent: "close duplicates", ttl_seconds: 600 },
    })
  ).body as { task_id: string; task_token: string };
  const config = await clientFor(task.task_token);
  const error = await client
    .genericGrantRequest(config, JWT_BEARER, {
      assertion: task.task_token,
      resource: TICKETS,
      scope: "tickets:write",
    })
    .catch((err: unknown) => err);
  expect(error).toBeInstanceOf(client.ResponseBodyError);
  const held = error as client.ResponseBodyError;
  expect(held.error).toBe("authorization_pending");
  const body = held.cause as { auth_req_id: string; expires_in: number; interval: number };
  return { task, config, ciba: body };
}

async function poll(authReqId: string, assertion: string | undefined) {
  const form = new URLSearchParams({ grant_type: CIBA, auth_req_id: authReqId });
  if (assertion) {
    form.set("client_assertion_type", ASSERTION_TYPE);
    form.set("client_assertion", assertion);
  }
  const res = await fetch(`${publicUrl}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  return { status: res.status, body: (await res.json()) as { error?: string; access_token?: string } };
}

const decide = (approvalId: string, outcome: "approve" | "deny") =>
  h.call("POST", `/v1/approvals/${approvalId}/${outcome}`, { token: approver, body: { comment: "ok" } });

describe("CIBA poll mode for approvals", () => {
  it("a held request answers auth_req_id = the approval id, expires_in and interval", async () => {
    const { ciba } = await heldRequest();
    expect(ciba.auth_req_id).toMatch(/^apr_/);
    expect(ciba.expires_in).toBeGreaterThan(0);
    expect(ciba.expires_in).toBeLessThanOrEqual(5);
    expect(ciba.interval).toBe(1);
    const approval = await h.call("GET", `/v1/approvals/${ciba.auth_req_id}`, { token: agent });
    expect(approval.body).toMatchObject({
      state: "pending",
      profile: "tickets-api",
      scopes: ["tickets:write"],
    });
  });

  it("pending, then slow_down when polled too fast, then the token once approved: exactly once", async () => {
    const { task, config, ciba } = await heldRequest();
    expect((await poll(ciba.auth_req_id, task.task_token)).body.error).toBe("authorization_pending");
    expect((await poll(ciba.auth_req_id, task.task_token)).body.error).toBe("slow_down");
    expect((await decide(ciba.auth_req_id, "approve")).body.state).toBe("approved");
    const tokens = await client.pollBackchannelAuthenticationGrant(config, ciba);
    expect(tokens.scope).toBe("tickets:write");
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ aud: TICKETS, task_id: task.task_id, scope: "tickets:write" });
    const read = await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent });
    expect(read.body.credentials.map((c: { credential_id: string }) => c.credential_id)).toContain(
      claims.jti,
    );
    const again = await poll(ciba.auth_req_id, task.task_token);
    expect(again.body.error).toBe("invalid_grant");
    expect(again.body.access_token).toBeUndefined();
  });

  it("only the requester can collect: an approver's JWT is refused, no client assertion is invalid_client", async () => {
    const { ciba } = await heldRequest();
    await decide(ciba.auth_req_id, "approve");
    expect((await poll(ciba.auth_req_id, approver)).body.error).toBe("invalid_grant");
    const anonymous = await poll(ciba.auth_req_id, undefined);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe("invalid_client");
    expect((await poll("apr_unknown0000000000", agent)).body.error).toBe("invalid_grant");
  });

  it("a denied request is access_denied; openid-client's poll raises it", async () => {
    const { config, ciba } = await heldRequest();
    await decide(ciba.auth_req_id, "deny");
    const error = await client.pollBackchannelAuthenticationGrant(config, ciba).catch((err: unknown) => err);
    expect((error as client.ResponseBodyError).error).toBe("access_denied");
  });

  it("closing the task cancels the approval: access_denied", async () => {
    const { task, ciba } = await heldRequest();
    await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    const res = await poll(ciba.auth_req_id, agent);
    expect(res.body.error).toBe("access_denied");
  });

  it("an approval left undecided past expires_in is expired_token", async () => {
    const { task, ciba } = await heldRequest();
    await waitFor(
      async () => (await poll(ciba.auth_req_id, task.task_token)).body.error === "expired_token",
      10_000,
      "the approval expires",
    );
  });
});
