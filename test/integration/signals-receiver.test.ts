import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";

/**
 * The broker as an SSF receiver: an IdP transmitter on loopback (its own keys, JWKS and SSF metadata)
 * signs real CAEP/RISC events and pushes them (RFC 8935) to `POST /ssf/events`. A session-revoked event
 * for an initiator closes every open task that initiator started, and only those; bad SETs are refused
 * with the RFC 8935 error codes, audited, and close nothing.
 */

const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const ACCOUNT_DISABLED = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
const AUDIENCE = "https://broker.example/ssf";

let h: Harness;
let idp: Server;
let idpUrl: string;
let agent: string;
let operator: string;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let signingKey: PrivateKey;
let otherKey: PrivateKey;
let counter = 0;

async function idpSet(claims: JWTPayload, options: { key?: PrivateKey; iss?: string; aud?: string } = {}) {
  counter += 1;
  return new SignJWT({ jti: `idp-${counter}-${Date.now()}`, ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "idp-1", typ: "secevent+jwt" })
    .setIssuer(options.iss ?? idpUrl)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt()
    .sign(options.key ?? signingKey);
}

const sessionRevoked = (email: string): JWTPayload => ({
  sub_id: { format: "email", email },
  events: {
    [SESSION_REVOKED]: { event_timestamp: Math.floor(Date.now() / 1000), initiating_entity: "admin" },
  },
});

function push(set: string, contentType = "application/secevent+jwt") {
  return h.call("POST", "/ssf/events", { body: set, headers: { "content-type": contentType } });
}

async function openTask(initiator: string): Promise<string> {
  const res = await h.call("POST", "/v1/tasks", {
    token: agent,
    body: { intent: "receiver", ttl_seconds: 600, initiator: { subject: initiator } },
  });
  expect(res.status, res.text).toBe(201);
  const issued = await h.call("POST", `/v1/tasks/${res.body.task_id}/credentials`, {
    token: agent,
    body: { profile: "tickets-api", ttl_seconds: 300 },
  });
  expect(issued.status).toBe(201);
  return res.body.task_id as string;
}

const stateOf = async (taskId: string): Promise<string> =>
  (await h.call("GET", `/v1/tasks/${taskId}`, { token: agent })).body.state;

async function auditEvents(type: string): Promise<{ details: Record<string, unknown>; reason: string }[]> {
  const found = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `?limit=1000&cursor=${cursor}` : "?limit=1000";
    const res = await h.call("GET", `/v1/audit${query}`, { token: operator });
    found.push(...res.body.events.filter((e: { type: string }) => e.type === type));
    cursor = res.body.next_cursor;
  } while (cursor);
  return found;
}

beforeAll(async () => {
  const pair = await generateKeyPair("ES256");
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair("ES256")).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "idp-1", alg: "ES256", use: "sig" };
  idp = createServer((req, res) => {
    const json = (body: unknown) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.url === "/.well-known/ssf-configuration")
      return json({ issuer: idpUrl, jwks_uri: `${idpUrl}/jwks` });
    if (req.url === "/jwks") return json({ keys: [jwk] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
  idpUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  h = await startHarness({
    name: "signals-receiver",
    config: {
      signals: {
        receivers: [
          {
            name: "corp-idp",
            issuer: idpUrl,
            configuration_url: `${idpUrl}/.well-known/ssf-configuration`,
            audience: AUDIENCE,
          },
        ],
      },
    },
  });
  agent = await h.token("summariser");
  operator = await h.token("operator");
});
afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => idp?.close(resolve));
});

describe("SSF receiver", () => {
  it("session-revoked for an initiator closes every open task they started, and no one else's", async () => {
    const alice = [await openTask("alice@example.com"), await openTask("alice@example.com")];
    const bob = await openTask("bob@example.com");
    const set = await idpSet(sessionRevoked("alice@example.com"));
    const res = await push(set);
    expect(res.status, res.text).toBe(202);
    for (const taskId of alice) {
      await waitFor(
        async () => ((await stateOf(taskId)) === "closed" ? true : null),
        10_000,
        `${taskId} closed`,
      );
      const task = (await h.call("GET", `/v1/tasks/${taskId}`, { token: agent })).body;
      expect(task.close_reason).toBe("revoked");
    }
    expect(await stateOf(bob)).toBe("open");
    const received = await auditEvents("signal.received");
    const mine = received.find((e) => (e.details.initiators as string[]).includes("alice@example.com"));
    if (!mine) throw new Error("no signal.received event for alice");
    expect(mine.details).toMatchObject({ transmitter: "corp-idp", event: SESSION_REVOKED });
    expect(mine.reason).toContain(SESSION_REVOKED);
    const started = mine.details.revocations as string[];
    const revocations = (await auditEvents("revocation.started")).filter((e) =>
      started.includes(e.details.revocation_id as string),
    );
    expect(revocations).toHaveLength(1);
    expect(revocations[0]?.details.selector).toEqual({ initiator: "alice@example.com" });
  });

  it("a RISC account-disabled event with an iss_sub subject closes that initiator's tasks", async () => {
    const carol = await openTask("carol-sub-42");
    const set = await idpSet({
      sub_id: { format: "complex", user: { format: "iss_sub", iss: idpUrl, sub: "carol-sub-42" } },
      events: { [ACCOUNT_DISABLED]: { reason: "hijacking" } },
    });
    expect((await push(set)).status).toBe(202);
    await waitFor(async () => ((await stateOf(carol)) === "closed" ? true : null), 10_000);
  });

  it("refuses bad SETs with the RFC 8935 codes, audits each, and closes nothing", async () => {
    const dave = await openTask("dave@example.com");
    const good = await idpSet(sessionRevoked("dave@example.com"));
    const [header, payload] = good.split(".");
    const unsignedHeader = Buffer.from(JSON.stringify({ alg: "none", typ: "secevent+jwt" })).toString(
      "base64url",
    );
    const cases: [string, string, string?][] = [
      ["unsigned", `${unsignedHeader}.${payload}.`],
      ["mis-signed", await idpSet(sessionRevoked("dave@example.com"), { key: otherKey })],
      [
        "tampered",
        `${header}.${Buffer.from(JSON.stringify({ iss: idpUrl, aud: AUDIENCE })).toString("base64url")}.${good.split(".")[2]}`,
      ],
      ["wrong audience", await idpSet(sessionRevoked("dave@example.com"), { aud: "https://someone-else" })],
      ["unknown issuer", await idpSet(sessionRevoked("dave@example.com"), { iss: "https://evil.example" })],
      ["not a JWT", "hello"],
      ["wrong content type", good, "text/plain"],
    ];
    const expected: Record<string, string> = {
      unsigned: "invalid_key",
      "mis-signed": "invalid_key",
      tampered: "invalid_key",
      "wrong audience": "invalid_audience",
      "unknown issuer": "invalid_issuer",
      "not a JWT": "invalid_request",
      "wrong content type": "invalid_request",
    };
    for (const [name, set, type] of cases) {
      const res = await push(set, type);
      expect(res.status, name).toBe(400);
      expect(res.body, name).toEqual({ err: expected[name], description: expect.any(String) });
    }
    // The good one once, then its replay.
    expect((await push(good)).status).toBe(202);
    const replay = await push(good);
    expect(replay.status).toBe(400);
    expect(replay.body.err).toBe("invalid_request");
    expect(replay.body.description).toMatch(/already received/);
    const rejected = await auditEvents("signal.rejected");
    const codes = rejected.map((e) => e.details.err);
    for (const code of ["invalid_key", "invalid_audience", "invalid_issuer", "invalid_request"]) {
      expect(codes).toContain(code);
    }
    // Only the one accepted SET started a revocation for dave.
    const forDave = (await auditEvents("revocation.started")).filter(
      (e) => (e.details.selector as { initiator?: string }).initiator === "dave@example.com",
    );
    expect(forDave).toHaveLength(1);
    await waitFor(async () => ((await stateOf(dave)) === "closed" ? true : null), 10_000);
  });

  it("bad SETs before any good one close nothing", async () => {
    const erin = await openTask("erin@example.com");
    for (const set of [
      await idpSet(sessionRevoked("erin@example.com"), { key: otherKey }),
      await idpSet(sessionRevoked("erin@example.com"), { aud: "https://someone-else" }),
      await idpSet(sessionRevoked("erin@example.com"), { iss: "https://evil.example" }),
    ]) {
      expect((await push(set)).status).toBe(400);
    }
    const forErin = (await auditEvents("revocation.started")).filter(
      (e) => (e.details.selector as { initiator?: string }).initiator === "erin@example.com",
    );
    expect(forErin).toEqual([]);
    expect(await stateOf(erin)).toBe("open");
  });

  it("a flood of bad SETs from one address is refused with 429 past its budget, unverified and unaudited", async () => {
    const before = (await auditEvents("signal.rejected")).length;
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) statuses.push((await push(`not.a.set${i}`)).status);
    const first429 = statuses.indexOf(429);
    expect(first429).toBeGreaterThan(0);
    expect(statuses.slice(first429).every((status) => status === 429)).toBe(true);
    const refused = statuses.filter((status) => status === 400).length;
    expect((await auditEvents("signal.rejected")).length - before).toBe(refused);
  });
});
