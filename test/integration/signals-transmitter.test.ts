import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { type SetReceiver, startSetReceiver } from "../support/set-receiver.js";
import { TEST_POLICY } from "../support/test-policy.js";

/**
 * The SSF transmitter end to end: resource servers create push streams, a task with signer tokens is
 * closed, and receivers written against RFC 8935 (test/support/set-receiver.ts) verify every SET with jose
 * against the broker's JWKS. Scoping: a receiver of one audience hears nothing about another's tokens.
 */

const TICKETS = "https://tickets.internal";
const REPORTS = "https://reports.internal";
const SECRET = "signals-rs-secret-0123456789abcdef";
const PUSH = "urn:ietf:rfc:8935";
const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification";

const POLICY = `${TEST_POLICY}
@id("rs-not-subscribed")
forbid (principal is Credbroker::ResourceServer, action == Credbroker::Action::"SubscribeSignals", resource)
when { principal.subject == "unsubscribed-rs" };

@id("no-forbidden-endpoints")
forbid (principal, action == Credbroker::Action::"SubscribeSignals", resource)
when { context.endpoint_url like "*/forbidden*" };
`;

let h: Harness;
let publicUrl: string;
let agent: string;
let tickets: SetReceiver;
let reports: SetReceiver;

const basic = (clientId: string) => `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString("base64")}`;

function rsCall(clientId: string, method: string, route: string, body?: unknown) {
  return h.call(method, route, { body, headers: { authorization: basic(clientId) } });
}

async function createStream(clientId: string, receiver: SetReceiver): Promise<string> {
  const res = await rsCall(clientId, "POST", "/v1/ssf/streams", {
    delivery: { method: PUSH, endpoint_url: receiver.url },
    events_requested: [SESSION_REVOKED],
  });
  expect(res.status, res.text).toBe(201);
  return res.body.stream_id as string;
}

async function taskWithTokens(
  count: number,
  profile = "tickets-api",
): Promise<{ taskId: string; jtis: string[] }> {
  const task = await h.call("POST", "/v1/tasks", {
    token: agent,
    body: { intent: "signals", ttl_seconds: 600 },
  });
  const jtis: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const res = await h.call("POST", `/v1/tasks/${task.body.task_id}/credentials`, {
      token: agent,
      body: { profile, ttl_seconds: 300 },
    });
    expect(res.status, res.text).toBe(201);
    jtis.push(res.body.credential_id);
  }
  return { taskId: task.body.task_id, jtis };
}

const eventsAbout = (receiver: SetReceiver, taskId: string) =>
  receiver.received.filter((r) => r.payload.txn === taskId);

beforeAll(async () => {
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  h = await startHarness({
    name: "signals-transmitter",
    policy: POLICY,
    listenPort: port,
    config: {
      server: { public_url: publicUrl },
      resource_servers: [
        { client_id: "tickets-rs", secret_env: "SIG_RS_SECRET", audiences: [TICKETS] },
        { client_id: "reports-rs", secret_env: "SIG_RS_SECRET", audiences: [REPORTS] },
        { client_id: "unsubscribed-rs", secret_env: "SIG_RS_SECRET", audiences: [TICKETS] },
      ],
      signals: { delivery_backoff_ms: 50, delivery_attempts: 8 },
    },
    env: { SIG_RS_SECRET: SECRET },
  });
  agent = await h.token("summariser");
  const jwksUrl = `${publicUrl}/.well-known/jwks.json`;
  tickets = await startSetReceiver({ jwksUrl, issuer: publicUrl, audience: TICKETS });
  reports = await startSetReceiver({ jwksUrl, issuer: publicUrl, audience: REPORTS });
});
afterAll(async () => {
  await h?.close();
  await tickets?.close();
  await reports?.close();
});

describe("SSF transmitter", () => {
  it("publishes its metadata, naming the JWKS and the stream endpoints", async () => {
    const res = await h.call("GET", "/.well-known/ssf-configuration");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      spec_version: "1_0",
      issuer: publicUrl,
      jwks_uri: `${publicUrl}/.well-known/jwks.json`,
      delivery_methods_supported: [PUSH, "urn:ietf:rfc:8936"],
      configuration_endpoint: `${publicUrl}/v1/ssf/streams`,
    });
  });

  it("manages streams: create, read, list, update, status, delete; others' streams are 404", async () => {
    const id = await createStream("tickets-rs", tickets);
    const read = await rsCall("tickets-rs", "GET", `/v1/ssf/streams?stream_id=${id}`);
    expect(read.body).toMatchObject({ stream_id: id, iss: publicUrl, aud: TICKETS });
    expect(read.body.events_delivered).toEqual([SESSION_REVOKED, VERIFICATION]);
    const list = await rsCall("tickets-rs", "GET", "/v1/ssf/streams");
    expect(list.body.map((s: { stream_id: string }) => s.stream_id)).toContain(id);
    const patched = await rsCall("tickets-rs", "PATCH", "/v1/ssf/streams", {
      stream_id: id,
      description: "x",
    });
    expect(patched.body.description).toBe("x");
    expect((await rsCall("reports-rs", "GET", `/v1/ssf/streams?stream_id=${id}`)).status).toBe(404);
    expect((await rsCall("reports-rs", "DELETE", `/v1/ssf/streams?stream_id=${id}`)).status).toBe(404);
    const off = await rsCall("tickets-rs", "POST", "/v1/ssf/status", { stream_id: id, status: "disabled" });
    expect(off.body.status).toBe("disabled");
    expect((await rsCall("tickets-rs", "DELETE", `/v1/ssf/streams?stream_id=${id}`)).status).toBe(204);
    expect((await rsCall("tickets-rs", "GET", `/v1/ssf/status?stream_id=${id}`)).status).toBe(404);
  });

  it("refuses bad stream requests and callers the policy does not allow, creating nothing", async () => {
    const noMethod = await rsCall("tickets-rs", "POST", "/v1/ssf/streams", {
      delivery: { method: "urn:example:email" },
    });
    expect(noMethod.status).toBe(400);
    const plainHttp = await rsCall("tickets-rs", "POST", "/v1/ssf/streams", {
      delivery: { method: PUSH, endpoint_url: "http://example.com/events" },
    });
    expect(plainHttp.status).toBe(400);
    const denied = await rsCall("unsubscribed-rs", "POST", "/v1/ssf/streams", {
      delivery: { method: PUSH, endpoint_url: tickets.url },
    });
    expect(denied.status).toBe(403);
    expect((await rsCall("unsubscribed-rs", "GET", "/v1/ssf/streams")).body).toEqual([]);
    const workload = await h.call("POST", "/v1/ssf/streams", {
      token: agent,
      body: { delivery: { method: PUSH, endpoint_url: tickets.url } },
    });
    expect(workload.status).toBe(403);
    const badSecret = await h.call("GET", "/v1/ssf/streams", {
      headers: { authorization: `Basic ${Buffer.from("tickets-rs:wrong").toString("base64")}` },
    });
    expect(badSecret.status).toBe(401);
  });

  it("asks the policy again when an update changes the delivery endpoint, and keeps the old one if refused", async () => {
    const id = await createStream("tickets-rs", tickets);
    const moved = await rsCall("tickets-rs", "PATCH", "/v1/ssf/streams", {
      stream_id: id,
      delivery: { method: PUSH, endpoint_url: `${tickets.url}/forbidden` },
    });
    expect(moved.status).toBe(403);
    const read = await rsCall("tickets-rs", "GET", `/v1/ssf/streams?stream_id=${id}`);
    expect(read.body.delivery.endpoint_url).toBe(tickets.url);
    await rsCall("tickets-rs", "DELETE", `/v1/ssf/streams?stream_id=${id}`);
  });

  it("sends a verification event on request", async () => {
    const id = await createStream("tickets-rs", tickets);
    const res = await rsCall("tickets-rs", "POST", "/v1/ssf/verify", { stream_id: id, state: "s-123" });
    expect(res.status).toBe(204);
    const got = await waitFor(async () =>
      tickets.received.find((r) => (r.payload.sub_id as { id?: string }).id === id),
    );
    expect(got.payload.events).toEqual({ [VERIFICATION]: { state: "s-123" } });
    await rsCall("tickets-rs", "DELETE", `/v1/ssf/streams?stream_id=${id}`);
  });

  it("closing a task sends session-revoked for the task and for each token, verified against the JWKS", async () => {
    const ticketsStream = await createStream("tickets-rs", tickets);
    const reportsStream = await createStream("reports-rs", reports);
    const { taskId, jtis } = await taskWithTokens(3);
    const closed = await h.call("POST", `/v1/tasks/${taskId}/close`, { token: agent });
    expect(closed.status).toBe(202);
    const sets = await waitFor(async () => {
      const got = eventsAbout(tickets, taskId);
      return got.length >= 4 ? got : null;
    });
    for (const { header, payload } of sets) {
      expect(header.typ).toBe("secevent+jwt");
      expect(payload.iss).toBe(publicUrl);
      expect(payload.aud).toBe(TICKETS);
      expect(Object.keys(payload.events as object)).toEqual([SESSION_REVOKED]);
    }
    const subjects = sets.map((s) => s.payload.sub_id);
    expect(subjects).toContainEqual({ format: "complex", session: { format: "opaque", id: taskId } });
    for (const jti of jtis) expect(subjects).toContainEqual({ format: "jwt_id", iss: publicUrl, jti });
    expect(new Set(sets.map((s) => s.payload.jti)).size).toBe(4);
    // Scoping: the reports receiver heard nothing of a task with only tickets tokens.
    expect(eventsAbout(reports, taskId)).toEqual([]);
    const status = await rsCall("tickets-rs", "GET", `/v1/ssf/status?stream_id=${ticketsStream}`);
    expect(status.body.delivery.delivered).toBeGreaterThanOrEqual(4);
    await rsCall("tickets-rs", "DELETE", `/v1/ssf/streams?stream_id=${ticketsStream}`);
    await rsCall("reports-rs", "DELETE", `/v1/ssf/streams?stream_id=${reportsStream}`);
  });

  it("a failing receiver that comes back gets every event; its status shows the failures", async () => {
    const id = await createStream("tickets-rs", tickets);
    const { taskId } = await taskWithTokens(2);
    tickets.failNext(3);
    await h.call("POST", `/v1/tasks/${taskId}/close`, { token: agent });
    await waitFor(async () => (eventsAbout(tickets, taskId).length >= 3 ? true : null), 15_000);
    const status = await rsCall("tickets-rs", "GET", `/v1/ssf/status?stream_id=${id}`);
    expect(status.body.delivery.failed_attempts).toBe(3);
    expect(status.body.delivery.dropped).toBe(0);
    expect(status.body.delivery.last_error).toMatch(/503/);
    const metrics = await h.call("GET", "/metrics");
    expect(metrics.text).toMatch(/credbroker_signal_deliveries_total\{outcome="retry"\} [1-9]/);
    await rsCall("tickets-rs", "DELETE", `/v1/ssf/streams?stream_id=${id}`);
  });

  it("a poll stream (RFC 8936) holds the SETs until they are acknowledged", async () => {
    const created = await rsCall("tickets-rs", "POST", "/v1/ssf/streams", {
      delivery: { method: "urn:ietf:rfc:8936" },
      events_requested: [SESSION_REVOKED],
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.stream_id as string;
    expect(created.body.delivery).toEqual({
      method: "urn:ietf:rfc:8936",
      endpoint_url: `${publicUrl}/v1/ssf/poll/${id}`,
    });
    const { taskId, jtis } = await taskWithTokens(2);
    await h.call("POST", `/v1/tasks/${taskId}/close`, { token: agent });
    const polled = await waitFor(async () => {
      const res = await rsCall("tickets-rs", "POST", `/v1/ssf/poll/${id}`, { returnImmediately: true });
      return Object.keys(res.body.sets).length >= 3 ? res.body : null;
    });
    expect(polled.moreAvailable).toBe(false);
    const jwks = createRemoteJWKSet(new URL(`${publicUrl}/.well-known/jwks.json`));
    const subjects = [];
    for (const [jti, set] of Object.entries(polled.sets as Record<string, string>)) {
      const { payload } = await jwtVerify(set, jwks, {
        issuer: publicUrl,
        audience: TICKETS,
        typ: "secevent+jwt",
      });
      expect(payload.jti).toBe(jti);
      subjects.push(payload.sub_id);
    }
    for (const jti of jtis) expect(subjects).toContainEqual({ format: "jwt_id", iss: publicUrl, jti });
    const [first, ...rest] = Object.keys(polled.sets);
    const page = await rsCall("tickets-rs", "POST", `/v1/ssf/poll/${id}`, { ack: [first], maxEvents: 1 });
    expect(Object.keys(page.body.sets)).toHaveLength(1);
    expect(page.body.moreAvailable).toBe(true);
    const acked = await rsCall("tickets-rs", "POST", `/v1/ssf/poll/${id}`, { ack: rest });
    expect(acked.body).toEqual({ sets: {}, moreAvailable: false });
    expect((await rsCall("reports-rs", "POST", `/v1/ssf/poll/${id}`, {})).status).toBe(404);
    const push = await createStream("tickets-rs", tickets);
    expect((await rsCall("tickets-rs", "POST", `/v1/ssf/poll/${push}`, {})).status).toBe(400);
    await rsCall("tickets-rs", "DELETE", `/v1/ssf/streams?stream_id=${push}`);
    await rsCall("tickets-rs", "DELETE", `/v1/ssf/streams?stream_id=${id}`);
  });

  it("a disabled stream is sent nothing", async () => {
    const id = await createStream("tickets-rs", tickets);
    await rsCall("tickets-rs", "POST", "/v1/ssf/status", { stream_id: id, status: "disabled" });
    const { taskId } = await taskWithTokens(1);
    await h.call("POST", `/v1/tasks/${taskId}/close`, { token: agent });
    // A second, enabled stream of the same audience gets the events: once it has, the first had its chance.
    const witness = await startSetReceiver({
      jwksUrl: `${publicUrl}/.well-known/jwks.json`,
      issuer: publicUrl,
      audience: TICKETS,
    });
    try {
      const second = await createStream("tickets-rs", witness);
      const { taskId: later } = await taskWithTokens(1);
      await h.call("POST", `/v1/tasks/${later}/close`, { token: agent });
      await waitFor(async () => (eventsAbout(witness, later).length >= 2 ? true : null));
      expect(eventsAbout(tickets, taskId)).toEqual([]);
      expect(eventsAbout(tickets, later)).toEqual([]);
      await rsCall("tickets-rs", "DELETE", `/v1/ssf/streams?stream_id=${second}`);
    } finally {
      await witness.close();
    }
    await rsCall("tickets-rs", "DELETE", `/v1/ssf/streams?stream_id=${id}`);
  });
});
