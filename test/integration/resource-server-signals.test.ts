import type { Server } from "node:http";
import express from "express";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createResourceServer,
  createRevocationFeed,
  type RevocationFeed,
} from "../../src/client/resource-server/index.js";
import { freePort, type Harness, startHarness, waitFor } from "../support/broker-harness.js";

/**
 * The resource-server kit with a Shared Signals feed instead of introspection: a push stream (the kit's
 * own RFC 8935 endpoint) and a poll stream (RFC 8936, polled by the kit). A token is accepted, its task is
 * closed at the broker, and the next request with it is refused, without any introspection.
 */

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const RS_SECRET = "kit-signals-secret-0123456789abcdef";
const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

let h: Harness;
let config: client.Configuration;
let server: Server;
let resource: string;
let publicUrl: string;
let agent: string;
let introspections = 0;
let pushFeed: RevocationFeed;
let pollFeed: RevocationFeed;

const basic = `Basic ${Buffer.from(`kit-rs:${RS_SECRET}`).toString("base64")}`;

beforeAll(async () => {
  const [brokerPort, rsPort] = [await freePort(), await freePort()];
  publicUrl = `http://127.0.0.1:${brokerPort}`;
  resource = `http://127.0.0.1:${rsPort}`;
  h = await startHarness({
    name: "rs-kit-signals",
    listenPort: brokerPort,
    config: {
      server: { public_url: publicUrl },
      profiles: {
        "kit-api": { provider: "signer", max_ttl_seconds: 600, audience: resource, scopes: ["notes:read"] },
      },
      resource_servers: [{ client_id: "kit-rs", secret_env: "KIT_RS_SECRET", audiences: [resource] }],
    },
    env: { KIT_RS_SECRET: RS_SECRET },
  });
  agent = await h.token("summariser");
  config = await client.discovery(new URL(publicUrl), "agent-runtime", undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  const created = await h.call("POST", "/v1/ssf/streams", {
    headers: { authorization: basic },
    body: { delivery: { method: "urn:ietf:rfc:8936" }, events_requested: [SESSION_REVOKED] },
  });
  expect(created.status, created.text).toBe(201);
  pushFeed = createRevocationFeed({ issuer: publicUrl, audience: resource });
  pollFeed = createRevocationFeed({
    issuer: publicUrl,
    audience: resource,
    poll: { endpointUrl: created.body.delivery.endpoint_url, clientId: "kit-rs", clientSecret: RS_SECRET },
  });
  const countingFetch: typeof fetch = (input, init) => {
    if (String(input).endsWith("/v1/introspect")) introspections += 1;
    return fetch(input, init);
  };
  const app = express();
  app.post("/ssf/events", express.text({ type: "application/secevent+jwt" }), pushFeed.pushHandler());
  for (const [path, feed] of [
    ["/push/notes", pushFeed],
    ["/poll/notes", pollFeed],
  ] as const) {
    const kit = createResourceServer({ resource, issuer: publicUrl, signals: feed, fetch: countingFetch });
    app.get(path, kit.requireToken({ scopes: ["notes:read"] }), (_req, res) => void res.json({ ok: true }));
  }
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(rsPort, "127.0.0.1", () => resolve(listening));
  });
  const push = await h.call("POST", "/v1/ssf/streams", {
    headers: { authorization: basic },
    body: {
      delivery: { method: "urn:ietf:rfc:8935", endpoint_url: `${resource}/ssf/events` },
      events_requested: [SESSION_REVOKED],
    },
  });
  expect(push.status, push.text).toBe(201);
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

async function accessToken() {
  const task = (
    await h.call("POST", "/v1/tasks", { token: agent, body: { intent: "kit", ttl_seconds: 600 } })
  ).body as { task_id: string; task_token: string };
  const tokens = await client.genericGrantRequest(config, JWT_BEARER, {
    assertion: task.task_token,
    resource,
    scope: "notes:read",
  });
  return { taskId: task.task_id, token: tokens.access_token };
}

const get = (path: string, token: string) =>
  fetch(`${resource}${path}`, { headers: { authorization: `Bearer ${token}` } });

describe("the resource-server kit with a Shared Signals feed", () => {
  it("push: a token of a closed task is refused as soon as the SET arrives", async () => {
    const { taskId, token } = await accessToken();
    expect((await get("/push/notes", token)).status).toBe(200);
    expect((await h.call("POST", `/v1/tasks/${taskId}/close`, { token: agent })).status).toBe(202);
    const refused = await waitFor(async () => {
      const res = await get("/push/notes", token);
      return res.status === 401 ? res : null;
    });
    expect(refused.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    expect(await refused.json()).toMatchObject({ error_description: "The access token was revoked." });
    expect(introspections).toBe(0);
  });

  it("poll: the kit learns the same from polling its stream", async () => {
    const { taskId, token } = await accessToken();
    expect((await get("/poll/notes", token)).status).toBe(200);
    await h.call("POST", `/v1/tasks/${taskId}/close`, { token: agent });
    await waitFor(async () => {
      await pollFeed.pollOnce();
      return (await get("/poll/notes", token)).status === 401 ? true : null;
    });
    // The SETs were acknowledged: the next poll takes nothing more about this task.
    expect(await pollFeed.pollOnce()).toBe(0);
    expect(introspections).toBe(0);
  });

  it("a SET the broker did not sign is refused by the push endpoint and revokes nothing", async () => {
    const { token } = await accessToken();
    const forged = `${Buffer.from(JSON.stringify({ alg: "none", typ: "secevent+jwt" })).toString("base64url")}.e30.`;
    const res = await fetch(`${resource}/ssf/events`, {
      method: "POST",
      headers: { "content-type": "application/secevent+jwt" },
      body: forged,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { err: string }).err).toBe("invalid_request");
    expect((await get("/push/notes", token)).status).toBe(200);
  });
});
