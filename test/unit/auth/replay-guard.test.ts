import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAssertionVerifier } from "../../../src/auth/assertion-verifier.js";
import { authKeys } from "../../../src/auth/auth-keys.js";
import { createRedisReplayGuard, type ReplayGuard } from "../../../src/auth/replay-guard.js";
import { BrokerError } from "../../../src/shared/errors.js";
import { type OidcIssuerSim, startOidcIssuerSim } from "../../sims/oidc-issuer.js";

const AUDIENCE = "https://broker.test";
const keyPrefix = `test-auth-${randomBytes(6).toString("hex")}`;
const clock = { now: () => Date.now() };

let redis: Redis;
let sim: OidcIssuerSim;

beforeAll(async () => {
  redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
  sim = await startOidcIssuerSim({ clock });
});

afterAll(async () => {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}:*`, "COUNT", 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
  redis.disconnect();
  await sim.close();
});

function guardedVerifier(replayGuard: ReplayGuard, replay_guard = true) {
  return createAssertionVerifier({
    issuers: [sim.issuerConfig({ replay_guard })],
    defaultAudience: AUDIENCE,
    clock,
    replayGuard,
  });
}

async function rejection(promise: Promise<unknown>): Promise<BrokerError | undefined> {
  const err = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(err).toBeInstanceOf(BrokerError);
  return err instanceof BrokerError ? err : undefined;
}

describe("replay guard", () => {
  it("accepts the first use of an assertion and rejects the second", async () => {
    const verifier = guardedVerifier(createRedisReplayGuard({ redis, keyPrefix }));
    const token = await sim.mint({
      sub: "alice",
      aud: AUDIENCE,
      jti: `jti-${randomBytes(4).toString("hex")}`,
    });
    await expect(verifier.verify(token)).resolves.toMatchObject({ id: "ci:alice" });
    const err = await rejection(verifier.verify(token));
    expect(err).toMatchObject({ code: "invalid_assertion", details: { reason: "replayed" } });
    expect(err?.message).not.toContain(token);
  });

  it("recognises a replayed assertion without jti by its hash", async () => {
    const verifier = guardedVerifier(createRedisReplayGuard({ redis, keyPrefix }));
    const token = await sim.mint({ sub: "bob", aud: AUDIENCE });
    await verifier.verify(token);
    expect(await rejection(verifier.verify(token))).toMatchObject({ details: { reason: "replayed" } });
    await expect(
      verifier.verify(await sim.mint({ sub: "bob", aud: AUDIENCE, nonce: "2" })),
    ).resolves.toBeDefined();
  });

  it("lets an assertion be reused when the issuer does not enable the guard", async () => {
    const verifier = guardedVerifier(createRedisReplayGuard({ redis, keyPrefix }), false);
    const token = await sim.mint({ sub: "carol", aud: AUDIENCE, jti: "reusable" });
    await verifier.verify(token);
    await expect(verifier.verify(token)).resolves.toMatchObject({ id: "ci:carol" });
  });

  it("forgets an assertion once it has expired plus leeway", async () => {
    const guard = createRedisReplayGuard({ redis, keyPrefix });
    const expiresAtMs = Date.now() + 2 * 60_000;
    expect(await guard.claim("ci", "ttl-check", expiresAtMs)).toBe(true);
    const ttl = await redis.pttl(authKeys(keyPrefix).replay("ci", "ttl-check"));
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(2 * 60_000);
    expect(await guard.claim("ci", "ttl-check", expiresAtMs)).toBe(false);
    expect(await guard.claim("other-issuer", "ttl-check", expiresAtMs)).toBe(true);
  });

  it("lets exactly one of two concurrent uses of one assertion through", async () => {
    const verifier = guardedVerifier(createRedisReplayGuard({ redis, keyPrefix }));
    const token = await sim.mint({
      sub: "dave",
      aud: AUDIENCE,
      jti: `race-${randomBytes(4).toString("hex")}`,
    });
    const results = await Promise.allSettled([verifier.verify(token), verifier.verify(token)]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
  });

  it("fails closed with unavailable when the replay store cannot be written", async () => {
    const broken: ReplayGuard = { claim: () => Promise.reject(new Error("connection refused")) };
    const token = await sim.mint({ sub: "erin", aud: AUDIENCE });
    expect(await rejection(guardedVerifier(broken).verify(token))).toMatchObject({
      code: "unavailable",
      status: 503,
    });
  });
});
