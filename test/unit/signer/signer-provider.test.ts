import { Redis } from "ioredis";
import { createLocalJWKSet, decodeJwt, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IssueRequest } from "../../../providers/provider.js";
import { PermanentProviderError, TransientProviderError } from "../../../providers/provider-errors.js";
import type { SignerProfile } from "../../../providers/signer/signer-config.js";
import {
  createSignerKeyRing,
  type SignerKeyRing,
  signerRedisKeys,
} from "../../../providers/signer/signer-keys.js";
import { createSignerProvider, type SignerProvider } from "../../../providers/signer/signer-provider.js";
import { connectTestRedis, deleteTestKeys, randomKek, testClock, testPrefix } from "./signer-fixtures.js";

const ISSUER = "https://broker.example";
const AUDIENCE = "https://api.example";
const RETENTION_SECONDS = 3_600;
const profiles: Record<string, SignerProfile> = {
  api: { provider: "signer", max_ttl_seconds: 900, audience: AUDIENCE, scopes: ["read", "write"] },
};

let redis: Redis;
let prefix: string;
let clock: ReturnType<typeof testClock>;
let keyRing: SignerKeyRing;
let signer: SignerProvider;
let sequence = 0;

beforeAll(() => {
  redis = connectTestRedis();
});
beforeEach(async () => {
  prefix = testPrefix();
  clock = testClock();
  keyRing = await createSignerKeyRing({
    redis,
    keyPrefix: prefix,
    kek: randomKek(),
    algorithm: "ES256",
    now: clock.now,
    retentionSeconds: RETENTION_SECONDS,
  });
  signer = createSignerProvider({
    redis,
    keyPrefix: prefix,
    issuer: ISSUER,
    profiles,
    keyRing,
    now: clock.now,
  });
  return async () => {
    await signer.close();
    await deleteTestKeys(redis, prefix);
  };
});
afterAll(async () => {
  await redis.quit();
});

function request(overrides: Partial<IssueRequest> = {}): IssueRequest {
  sequence += 1;
  return {
    credentialId: `cred_${sequence}`,
    taskId: "task_1",
    agent: "k8s:agents/runner",
    owner: "k8s:agents/orchestrator",
    initiator: { subject: "oidc:alice", verified: true },
    profile: "api",
    ttlSeconds: 300,
    scopes: ["read", "write"],
    taskDeadline: clock.now() + 3_600_000,
    actChain: [],
    ...overrides,
  };
}

async function issueToken(overrides: Partial<IssueRequest> = {}) {
  const issueRequest = request(overrides);
  const issued = await signer.issue(issueRequest);
  return { issued, token: String(issued.secret.token), credentialId: issueRequest.credentialId };
}

describe("issuing signer tokens", () => {
  it("an issued token verifies against the published JWKS as an RFC 9068 access token with every claim", async () => {
    const { issued, token } = await issueToken({ credentialId: "cred_claims" });
    const jwks = createLocalJWKSet(await signer.jwks());
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      typ: "at+jwt",
      issuer: ISSUER,
      audience: AUDIENCE,
      currentDate: new Date(clock.now()),
    });
    const { kid } = await keyRing.current();
    const iat = Math.floor(clock.now() / 1000);
    expect(protectedHeader).toEqual({ alg: "ES256", kid, typ: "at+jwt" });
    expect(payload).toEqual({
      iss: ISSUER,
      sub: "k8s:agents/runner",
      aud: AUDIENCE,
      iat,
      nbf: iat,
      exp: iat + 300,
      jti: "cred_claims",
      client_id: "k8s:agents/runner",
      scope: "read write",
      task_id: "task_1",
      initiator: "oidc:alice",
    });
    expect(issued).toEqual({
      handle: `${iat + 300}.${kid}`,
      expiresAt: (iat + 300) * 1000,
      downstreamAccount: "k8s:agents/runner",
      secret: { token, token_type: "Bearer" },
      notes: [],
    });
  });

  it("the act claim carries the delegation chain, the most recent prior actor on top", async () => {
    const { token } = await issueToken({ actChain: ["k8s:agents/root", "k8s:agents/parent"] });
    expect(decodeJwt(token).act).toEqual({ sub: "k8s:agents/parent", act: { sub: "k8s:agents/root" } });
    const { token: direct } = await issueToken({ actChain: [] });
    expect(decodeJwt(direct)).not.toHaveProperty("act");
  });

  it("a token never outlives its task deadline", async () => {
    const taskDeadline = clock.now() + 42_500;
    const { issued, token } = await issueToken({ ttlSeconds: 600, taskDeadline });
    expect(decodeJwt(token).exp).toBe(Math.floor(taskDeadline / 1000));
    expect(issued.expiresAt).toBeLessThanOrEqual(taskDeadline);
  });

  it("a token never outlives the profile's max TTL", async () => {
    const { token } = await issueToken({ ttlSeconds: 5_000 });
    const { exp, iat } = decodeJwt(token);
    expect(exp! - iat!).toBe(900);
  });

  it("a task whose deadline has passed gets no token", async () => {
    await expect(signer.issue(request({ taskDeadline: clock.now() - 1 }))).rejects.toBeInstanceOf(
      PermanentProviderError,
    );
  });

  it("declares deny-list revocation, TTL bounds and scopes of its profiles", () => {
    expect(signer.kind).toBe("signer");
    expect(signer.semantics).toBe("deny-list");
    expect(signer.hasProfile("api")).toBe(true);
    expect(signer.hasProfile("toString")).toBe(false);
    expect(signer.ttlBounds("api")).toEqual({ min: 1, max: 900 });
    expect(signer.allowedScopes("api")).toEqual(["read", "write"]);
  });
});

describe("introspection and revocation", () => {
  it("a live token is active with its claims; once revoked it is inactive", async () => {
    const { issued, token, credentialId } = await issueToken({ credentialId: "cred_live" });
    expect(await signer.introspect(token)).toMatchObject({
      active: true,
      token_type: "Bearer",
      sub: "k8s:agents/runner",
      jti: "cred_live",
      scope: "read write",
      task_id: "task_1",
    });
    await signer.revoke({ credentialId, handle: issued.handle, expiresAt: issued.expiresAt });
    expect(await signer.introspect(token)).toEqual({ active: false });
  });

  it("a handle recorded by an earlier version (JSON) still revokes its token", async () => {
    const { issued, token, credentialId } = await issueToken();
    const [exp, kid] = issued.handle.split(".");
    const legacy = JSON.stringify({ jti: credentialId, kid, exp: Number(exp) });
    await signer.revoke({ credentialId, handle: legacy, expiresAt: issued.expiresAt });
    expect(await signer.introspect(token)).toEqual({ active: false });
  });

  it("revoking twice succeeds", async () => {
    const { issued, token, credentialId } = await issueToken();
    const revoke = { credentialId, handle: issued.handle, expiresAt: issued.expiresAt };
    await signer.revoke(revoke);
    await signer.revoke(revoke);
    expect(await signer.introspect(token)).toEqual({ active: false });
  });

  it("the deny-list entry expires about a minute after the token would have", async () => {
    const { issued } = await issueToken({ ttlSeconds: 300 });
    await signer.revoke({ credentialId: "cred", handle: issued.handle, expiresAt: issued.expiresAt });
    const jti = "cred";
    const expected = issued.expiresAt + 60_000 - clock.now();
    const pttl = await redis.pttl(signerRedisKeys(prefix).deny(jti));
    expect(pttl).toBeLessThanOrEqual(expected);
    expect(pttl).toBeGreaterThan(expected - 5_000);
  });

  it("revoking a token that has already expired succeeds without a deny-list entry", async () => {
    const { issued } = await issueToken({ ttlSeconds: 60 });
    clock.advance(60_000);
    await signer.revoke({ credentialId: "cred", handle: issued.handle, expiresAt: issued.expiresAt });
    expect(await redis.keys(`${prefix}:signer:deny:*`)).toEqual([]);
  });

  it("a credential whose handle was never recorded is revoked by its credential id", async () => {
    const { issued, token } = await issueToken({ credentialId: "cred_unrecorded" });
    await signer.revoke({ credentialId: "cred_unrecorded", handle: null, expiresAt: issued.expiresAt });
    expect(await signer.introspect(token)).toEqual({ active: false });
  });

  it("a malformed handle is a permanent revocation failure", async () => {
    for (const handle of ["not json", JSON.stringify({ jti: "x" }), "null", "12.", ".kid"]) {
      await expect(signer.revoke({ credentialId: "cred", handle, expiresAt: 0 })).rejects.toBeInstanceOf(
        PermanentProviderError,
      );
    }
  });

  it("when Redis cannot be written, revocation fails as retryable", async () => {
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    const offline = createSignerProvider({
      redis: down,
      keyPrefix: prefix,
      issuer: ISSUER,
      profiles,
      keyRing,
      now: clock.now,
    });
    const { issued } = await issueToken();
    await expect(
      offline.revoke({ credentialId: "cred", handle: issued.handle, expiresAt: issued.expiresAt }),
    ).rejects.toBeInstanceOf(TransientProviderError);
    down.disconnect();
  });

  it("a token is active until its exp and inactive from then on", async () => {
    const { token } = await issueToken({ ttlSeconds: 60 });
    const exp = decodeJwt(token).exp! * 1000;
    clock.advance(exp - clock.now() - 1);
    expect((await signer.introspect(token)).active).toBe(true);
    clock.advance(1);
    expect(await signer.introspect(token)).toEqual({ active: false });
  });

  it("a token forged with another key under the broker's kid is inactive", async () => {
    const { token } = await issueToken();
    const forger = await generateKeyPair("ES256");
    const { kid } = await keyRing.current();
    const forged = await new SignJWT(decodeJwt(token))
      .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
      .sign(forger.privateKey);
    expect(await signer.introspect(forged)).toEqual({ active: false });
    const unknownKid = await new SignJWT(decodeJwt(token))
      .setProtectedHeader({ alg: "ES256", kid: "unknown", typ: "at+jwt" })
      .sign(forger.privateKey);
    expect(await signer.introspect(unknownKid)).toEqual({ active: false });
  });

  it("a token signed with the broker key but not an at+jwt from this issuer is inactive", async () => {
    const claims = decodeJwt((await issueToken()).token);
    const { kid, alg, privateKey } = await keyRing.current();
    const plainJwt = await new SignJWT(claims).setProtectedHeader({ alg, kid, typ: "JWT" }).sign(privateKey);
    const otherIssuer = await new SignJWT({ ...claims, iss: "https://evil.example" })
      .setProtectedHeader({ alg, kid, typ: "at+jwt" })
      .sign(privateKey);
    expect(await signer.introspect(plainJwt)).toEqual({ active: false });
    expect(await signer.introspect(otherIssuer)).toEqual({ active: false });
  });

  it("garbage is inactive, never an error", async () => {
    for (const garbage of ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", `${"x".repeat(10_000)}`]) {
      expect(await signer.introspect(garbage)).toEqual({ active: false });
    }
  });
});

describe("key rotation seen by resource servers", () => {
  it("after rotation the new key signs, and tokens signed before stay valid until retention ends", async () => {
    const { token: before } = await issueToken();
    const { kid: oldKid } = await keyRing.current();
    const { kid, previous_kid } = await signer.rotateKeys();
    expect(previous_kid).toBe(oldKid);

    const { token: after } = await issueToken();
    const jwks = createLocalJWKSet(await signer.jwks());
    const currentDate = new Date(clock.now());
    expect((await jwtVerify(after, jwks, { typ: "at+jwt", currentDate })).protectedHeader.kid).toBe(kid);
    expect((await jwtVerify(before, jwks, { typ: "at+jwt", currentDate })).protectedHeader.kid).toBe(oldKid);
    expect((await signer.introspect(before)).active).toBe(true);

    clock.advance(RETENTION_SECONDS * 1000);
    expect((await signer.jwks()).keys.map((key) => key.kid)).toEqual([kid]);
    expect(await signer.introspect(before)).toEqual({ active: false });
  });
});
