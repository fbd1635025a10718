import { createHash, type webcrypto } from "node:crypto";
import type { Server } from "node:http";
import express from "express";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createResourceServer } from "../../src/client/resource-server/index.js";
import { freePort, type Harness, startHarness, waitFor } from "../support/broker-harness.js";

/**
 * The resource-server kit (`credbroker/resource-server`) in front of a real Express app, with tokens from a
 * real broker: RFC 9728 metadata, 401 with `resource_metadata`, 403 `insufficient_scope`, revocation learnt
 * through introspection, and DPoP-bound tokens used through openid-client's protected-resource request.
 */

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const RS_SECRET = "kit-rs-secret-0123456789abcdefghij";

let h: Harness;
let config: client.Configuration;
let server: Server;
let resource: string;
let agent: string;

beforeAll(async () => {
  const [brokerPort, rsPort] = [await freePort(), await freePort()];
  const publicUrl = `http://127.0.0.1:${brokerPort}`;
  resource = `http://127.0.0.1:${rsPort}`;
  h = await startHarness({
    name: "rs-kit",
    listenPort: brokerPort,
    config: {
      server: { public_url: publicUrl },
      profiles: {
        "kit-api": {
          provider: "signer",
          max_ttl_seconds: 600,
          audience: resource,
          scopes: ["notes:read", "notes:write"],
        },
      },
      resource_servers: [{ client_id: "kit-rs", secret_env: "KIT_RS_SECRET", audiences: [resource] }],
    },
    env: { KIT_RS_SECRET: RS_SECRET },
  });
  agent = await h.token("summariser");
  config = await client.discovery(new URL(publicUrl), "agent-runtime", undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  const kit = createResourceServer({
    resource,
    issuer: publicUrl,
    scopes: ["notes:read", "notes:write"],
    introspection: { clientId: "kit-rs", clientSecret: RS_SECRET },
    introspectionCacheSeconds: 1,
  });
  const app = express();
  app.use(kit.metadata);
  app.get("/notes", kit.requireToken({ scopes: ["notes:read"] }), (_req, res) => {
    res.json({ task: (res.locals.credbroker as { taskId: string }).taskId });
  });
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(rsPort, "127.0.0.1", () => resolve(listening));
  });
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

async function accessToken(scope: string, dpop?: client.DPoPHandle) {
  const task = (
    await h.call("POST", "/v1/tasks", { token: agent, body: { intent: "kit", ttl_seconds: 600 } })
  ).body as { task_id: string; task_token: string };
  const tokens = await client.genericGrantRequest(
    config,
    JWT_BEARER,
    { assertion: task.task_token, resource, scope },
    dpop ? { DPoP: dpop } : {},
  );
  return { task, token: tokens.access_token };
}

const get = (headers: Record<string, string> = {}) => fetch(`${resource}/notes`, { headers });

describe("the resource-server kit", () => {
  it("serves RFC 9728 metadata naming the broker", async () => {
    const res = await fetch(`${resource}/.well-known/oauth-protected-resource`);
    expect(await res.json()).toMatchObject({
      resource,
      authorization_servers: [config.serverMetadata().issuer],
      scopes_supported: ["notes:read", "notes:write"],
    });
  });

  it("401 with resource_metadata (and the scope to ask for) when no token comes", async () => {
    const res = await get();
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="${resource}/.well-known/oauth-protected-resource", scope="notes:read"`,
    );
  });

  it("accepts a broker token for this resource with the scope; 403 insufficient_scope without it", async () => {
    const { task, token } = await accessToken("notes:read");
    const ok = await get({ authorization: `Bearer ${token}` });
    expect(await ok.json()).toEqual({ task: task.task_id });
    const narrow = await accessToken("notes:write");
    const refused = await get({ authorization: `Bearer ${narrow.token}` });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("www-authenticate")).toMatch(/error="insufficient_scope".*scope="notes:read"/);
  });

  it("refuses tokens for another audience, task tokens and tokens the broker did not sign", async () => {
    const task = (await h.call("POST", "/v1/tasks", { token: agent, body: { intent: "x", ttl_seconds: 60 } }))
      .body;
    const other = await client.genericGrantRequest(config, JWT_BEARER, {
      assertion: task.task_token,
      resource: "https://tickets.internal",
      scope: "tickets:read",
    });
    for (const token of [other.access_token, task.task_token, agent]) {
      const res = await get({ authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    }
  });

  it("learns of revocation before exp: closing the task makes the token fail within the cache time", async () => {
    const { task, token } = await accessToken("notes:read");
    expect((await get({ authorization: `Bearer ${token}` })).status).toBe(200);
    await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    await waitFor(
      async () => (await get({ authorization: `Bearer ${token}` })).status === 401,
      8_000,
      "refused",
    );
  });

  it("DPoP-bound tokens: accepted with the key's proof, refused as Bearer, with another key or replayed", async () => {
    const keyPair = await client.randomDPoPKeyPair("ES256");
    const { token } = await accessToken("notes:read", client.getDPoPHandle(config, keyPair));
    const res = await client.fetchProtectedResource(
      config,
      token,
      new URL(`${resource}/notes`),
      "GET",
      undefined,
      undefined,
      {
        DPoP: client.getDPoPHandle(config, keyPair),
      },
    );
    expect(res.status).toBe(200);
    expect((await get({ authorization: `Bearer ${token}` })).status).toBe(401);

    const proof = async (key: webcrypto.CryptoKey, publicKey: webcrypto.CryptoKey) =>
      new SignJWT({
        htm: "GET",
        htu: `${resource}/notes`,
        iat: Math.floor(Date.now() / 1000),
        jti: crypto.randomUUID(),
        ath: createHash("sha256").update(token).digest("base64url"),
      })
        .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: await exportJWK(publicKey) })
        .sign(key);
    const stranger = await generateKeyPair("ES256");
    const foreign = await get({
      authorization: `DPoP ${token}`,
      dpop: await proof(stranger.privateKey, stranger.publicKey),
    });
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get("www-authenticate")).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
    const own = await proof(keyPair.privateKey, keyPair.publicKey);
    expect((await get({ authorization: `DPoP ${token}`, dpop: own })).status).toBe(200);
    expect((await get({ authorization: `DPoP ${token}`, dpop: own })).status).toBe(401);
  });
});
