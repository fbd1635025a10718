import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type Harness, startHarness } from "../support/broker-harness.js";

/**
 * DPoP (RFC 9449) at the token endpoint, through openid-client's DPoP handle: a proof yields a
 * sender-constrained token (`token_type: DPoP`, `cnf.jkt`), introspection shows `cnf`, replayed and
 * mis-bound proofs are `invalid_dpop_proof`, and with nonces required the broker answers `use_dpop_nonce`,
 * which openid-client follows by itself.
 */

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const TICKETS = "https://tickets.internal";

interface Broker {
  h: Harness;
  publicUrl: string;
  config: client.Configuration;
}

async function startBroker(name: string, requireNonce: boolean): Promise<Broker> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const h = await startHarness({
    name,
    listenPort: port,
    config: { server: { public_url: publicUrl }, oauth: { dpop_require_nonce: requireNonce } },
  });
  const config = await client.discovery(new URL(publicUrl), "agent-runtime", undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  return { h, publicUrl, config };
}

let plain: Broker;
let withNonces: Broker;
let agent: string;

beforeAll(async () => {
  [plain, withNonces] = await Promise.all([
    startBroker("oauth-dpop", false),
    startBroker("oauth-dpop-nonce", true),
  ]);
  agent = await plain.h.token("summariser");
});
afterAll(async () => Promise.all([plain?.h.close(), withNonces?.h.close()]));

async function taskToken(broker: Broker): Promise<string> {
  const res = await broker.h.call("POST", "/v1/tasks", {
    token: await broker.h.token("summariser"),
    body: { intent: "dpop", ttl_seconds: 600 },
  });
  return res.body.task_token;
}

/** A proof made by hand, for the cases openid-client would never produce. */
async function handProof(url: string, overrides: Record<string, unknown> = {}) {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = await exportJWK(publicKey);
  const proof = await new SignJWT({
    htm: "POST",
    htu: url,
    iat: Math.floor(Date.now() / 1000),
    jti: crypto.randomUUID(),
    ...overrides,
  })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk })
    .sign(privateKey);
  return { proof, jkt: await calculateJwkThumbprint(jwk) };
}

async function rawGrant(broker: Broker, proof: string) {
  const res = await fetch(`${broker.publicUrl}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", dpop: proof },
    body: new URLSearchParams({
      grant_type: JWT_BEARER,
      assertion: await taskToken(broker),
      resource: TICKETS,
    }).toString(),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe("DPoP at the token endpoint", () => {
  it("the metadata lists the DPoP algorithms", () => {
    expect(plain.config.serverMetadata().dpop_signing_alg_values_supported).toEqual(
      expect.arrayContaining(["ES256", "EdDSA"]),
    );
  });

  it("a proof yields a DPoP token bound to its key; introspection returns token_type DPoP and cnf", async () => {
    const keyPair = await client.randomDPoPKeyPair("ES256");
    const dpop = client.getDPoPHandle(plain.config, keyPair);
    const tokens = await client.genericGrantRequest(
      plain.config,
      JWT_BEARER,
      { assertion: await taskToken(plain), resource: TICKETS },
      { DPoP: dpop },
    );
    expect(tokens.token_type).toBe("dpop");
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });
    const answer = await plain.h.call("POST", "/v1/introspect", {
      token: agent,
      body: { token: tokens.access_token },
    });
    expect(answer.body).toMatchObject({ active: true, token_type: "DPoP", cnf: { jkt } });
  });

  it("without a proof the token stays a Bearer token", async () => {
    const tokens = await client.genericGrantRequest(plain.config, JWT_BEARER, {
      assertion: await taskToken(plain),
      resource: TICKETS,
    });
    expect(tokens.token_type).toBe("bearer");
    expect(decodeJwt(tokens.access_token).cnf).toBeUndefined();
  });

  it("refuses a replayed proof, another endpoint's or method's, a stale one, and garbage", async () => {
    const url = `${plain.publicUrl}/oauth/token`;
    const { proof, jkt } = await handProof(url);
    const first = await rawGrant(plain, proof);
    expect(first.status).toBe(200);
    expect(decodeJwt(String(first.body.access_token)).cnf).toEqual({ jkt });
    const replayed = await rawGrant(plain, proof);
    expect(replayed.body.error).toBe("invalid_dpop_proof");
    const bad = [
      (await handProof(`${plain.publicUrl}/oauth/revoke`)).proof,
      (await handProof(url, { htm: "GET" })).proof,
      (await handProof(url, { iat: Math.floor(Date.now() / 1000) - 3600 })).proof,
      "not-a-proof",
      `${proof}, ${proof}`,
    ];
    for (const candidate of bad) {
      const res = await rawGrant(plain, candidate);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("invalid_dpop_proof");
    }
  });

  it("with nonces required: use_dpop_nonce with a DPoP-Nonce header, which openid-client follows", async () => {
    const { proof } = await handProof(`${withNonces.publicUrl}/oauth/token`);
    const refused = await rawGrant(withNonces, proof);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("use_dpop_nonce");
    const nonce = refused.headers.get("dpop-nonce");
    expect(nonce).toEqual(expect.any(String));
    const withNonce = await handProof(`${withNonces.publicUrl}/oauth/token`, { nonce });
    expect((await rawGrant(withNonces, withNonce.proof)).status).toBe(200);

    const dpop = client.getDPoPHandle(withNonces.config, await client.randomDPoPKeyPair("ES256"));
    // openid-client learns the nonce from the use_dpop_nonce answer and retries by itself.
    const tokens = await client.genericGrantRequest(
      withNonces.config,
      JWT_BEARER,
      { assertion: await taskToken(withNonces), resource: TICKETS },
      { DPoP: dpop },
    );
    expect(tokens.token_type).toBe("dpop");
  });

  it("POST /v1/tasks/{id}/credentials binds its signer token to a DPoP proof too", async () => {
    const task = await plain.h.call("POST", "/v1/tasks", {
      token: agent,
      body: { intent: "v1 dpop", ttl_seconds: 600 },
    });
    const route = `/v1/tasks/${task.body.task_id}/credentials`;
    const request = (proof: string) =>
      plain.h.call("POST", route, {
        token: agent,
        body: { profile: "tickets-api", scopes: ["tickets:read"] },
        headers: { dpop: proof },
      });
    const { proof, jkt } = await handProof(`${plain.publicUrl}${route}`);
    const issued = await request(proof);
    expect(issued.status).toBe(201);
    expect(issued.body.secret.token_type).toBe("DPoP");
    expect(decodeJwt(issued.body.secret.token).cnf).toEqual({ jkt });
    const replayed = await request(proof);
    expect(replayed.status).toBe(400);
    expect(replayed.body.error).toMatchObject({
      code: "invalid_request",
      details: { issues: [{ path: "DPoP" }] },
    });
    const elsewhere = await request((await handProof(`${plain.publicUrl}/oauth/token`)).proof);
    expect(elsewhere.body.error.details.issues[0]).toEqual({ path: "DPoP", message: "invalid_dpop_proof" });
  });
});
