import type { Server } from "node:http";
import express from "express";
import { auth } from "express-oauth2-jwt-bearer";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type Harness, startHarness } from "../support/broker-harness.js";

/**
 * RFC 8414 metadata against the libraries resource servers and clients already run: openid-client's
 * discovery (OIDC and OAuth 2.0 well-known paths), express-oauth2-jwt-bearer configured with nothing but
 * `issuerBaseURL`, and jose's createRemoteJWKSet on the published `jwks_uri`.
 */

let h: Harness;
let agent: string;
let publicUrl: string;

beforeAll(async () => {
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  h = await startHarness({
    name: "oauth-metadata",
    listenPort: port,
    config: { server: { public_url: publicUrl } },
  });
  agent = await h.token("summariser");
});
afterAll(async () => h?.close());

async function signerToken(profile: string): Promise<{ token: string; taskId: string }> {
  const task = await h.call("POST", "/v1/tasks", {
    token: agent,
    body: { intent: "metadata", ttl_seconds: 300 },
  });
  const issued = await h.call("POST", `/v1/tasks/${task.body.task_id}/credentials`, {
    token: agent,
    body: { profile, scopes: profile === "tickets-api" ? ["tickets:read"] : [] },
  });
  expect(issued.status).toBe(201);
  return { token: issued.body.secret.token, taskId: task.body.task_id };
}

describe("authorization-server metadata", () => {
  it("serves one document at both well-known paths, whose issuer is the signer's iss", async () => {
    const oauth = await h.call("GET", "/.well-known/oauth-authorization-server");
    const oidc = await h.call("GET", "/.well-known/openid-configuration");
    expect(oauth.status).toBe(200);
    expect(oidc.body).toEqual(oauth.body);
    expect(oauth.body).toMatchObject({
      issuer: publicUrl,
      jwks_uri: `${publicUrl}/.well-known/jwks.json`,
      introspection_endpoint: `${publicUrl}/v1/introspect`,
      introspection_endpoint_auth_methods_supported: ["client_secret_basic", "private_key_jwt"],
      response_types_supported: [],
      scopes_supported: ["tickets:read", "tickets:write"],
    });
    expect(oauth.body).not.toHaveProperty("authorization_endpoint");
    const { token } = await signerToken("tickets-api");
    const [, payload] = token.split(".");
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString()).iss).toBe(oauth.body.issuer);
  });

  it("openid-client discovery() accepts it on the OIDC and the OAuth 2.0 paths", async () => {
    for (const algorithm of ["oidc", "oauth2"] as const) {
      const config = await client.discovery(new URL(publicUrl), "tickets-rs", undefined, undefined, {
        algorithm,
        execute: [client.allowInsecureRequests],
      });
      const metadata = config.serverMetadata();
      expect(metadata.issuer).toBe(publicUrl);
      expect(metadata.introspection_endpoint).toBe(`${publicUrl}/v1/introspect`);
    }
  });

  it("jose createRemoteJWKSet on jwks_uri verifies a signer credential", async () => {
    const metadata = (await h.call("GET", "/.well-known/oauth-authorization-server")).body;
    const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
    const { token } = await signerToken("tickets-api");
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: metadata.issuer,
      audience: "https://tickets.internal",
      typ: "at+jwt",
    });
    expect(protectedHeader.typ).toBe("at+jwt");
    expect(payload.scope).toBe("tickets:read");
    await expect(
      jwtVerify(token, jwks, { issuer: metadata.issuer, audience: "https://reports.internal" }),
    ).rejects.toBeInstanceOf(joseErrors.JWTClaimValidationFailed);
  });
});

describe("express-oauth2-jwt-bearer with issuerBaseURL", () => {
  let server: Server;
  let rsUrl: string;

  beforeAll(async () => {
    const app = express();
    app.use(auth({ issuerBaseURL: publicUrl, audience: "https://tickets.internal", strict: true }));
    app.get("/tickets", (req, res) => {
      res.json({ sub: req.auth?.payload.sub, scope: req.auth?.payload.scope });
    });
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
    });
    const address = server.address();
    rsUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  const callRs = (token: string) =>
    fetch(`${rsUrl}/tickets`, { headers: { authorization: `Bearer ${token}` } });

  it("accepts a broker-issued signer credential for its audience, unmodified", async () => {
    const { token } = await signerToken("tickets-api");
    const res = await callRs(token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: "ci:summariser", scope: "tickets:read" });
  });

  it("refuses a broker token for another audience, and a token the broker did not sign", async () => {
    const { token } = await signerToken("reports-api");
    expect((await callRs(token)).status).toBe(401);
    expect((await callRs(agent)).status).toBe(401);
  });
});
