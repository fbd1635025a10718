import { afterEach, describe, expect, it } from "vitest";
import { createAssertionVerifier } from "../../../src/auth/assertion-verifier.js";
import type { IssuerConfig } from "../../../src/config/config-schema.js";
import { createOidcIssuer } from "../../../src/dev/oidc-issuer.js";
import { BrokerError } from "../../../src/shared/errors.js";
import { type OidcIssuerSim, startOidcIssuerSim } from "../../sims/oidc-issuer.js";

const AUDIENCE = "https://broker.test";

interface Harness {
  sim: OidcIssuerSim;
  advance(seconds: number): void;
  verifier(overrides?: Partial<IssuerConfig>): ReturnType<typeof createAssertionVerifier>;
  /** URLs the verifier fetched, in order. */
  fetched: string[];
  warnings: string[];
}

const sims: OidcIssuerSim[] = [];

afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
});

/** A sim and verifiers sharing one controllable clock; the verifier's fetches are recorded. */
async function harness(fetchOverride?: typeof fetch): Promise<Harness> {
  let nowMs = Date.now();
  const clock = { now: () => nowMs };
  const sim = await startOidcIssuerSim({ clock });
  sims.push(sim);
  const fetched: string[] = [];
  const warnings: string[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    fetched.push(String(input));
    return (fetchOverride ?? fetch)(input, init);
  };
  return {
    sim,
    fetched,
    warnings,
    advance: (seconds) => {
      nowMs += seconds * 1000;
    },
    verifier: (overrides = {}) =>
      createAssertionVerifier({
        issuers: [sim.issuerConfig(overrides)],
        defaultAudience: AUDIENCE,
        clock,
        fetch: recordingFetch,
        jwksTimeoutMs: 300,
        logger: {
          warn: (_fields: unknown, message?: string) => void warnings.push(message ?? ""),
          debug: () => {},
        },
      }),
  };
}

async function reasonOf(promise: Promise<unknown>): Promise<unknown> {
  const err = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(err).toBeInstanceOf(BrokerError);
  expect(err).toMatchObject({ code: "invalid_assertion", status: 401 });
  return err instanceof BrokerError ? err.details?.reason : undefined;
}

describe("issuer key cache", () => {
  it("fetches the new key after the issuer rotates, once the unknown-kid cooldown allows", async () => {
    const { sim, verifier, advance } = await harness();
    const broker = verifier({ jwks_cooldown_seconds: 30 });
    await broker.verify(await sim.mint({ sub: "alice", aud: AUDIENCE }));
    expect(sim.fetchCount()).toBe(1);

    await sim.rotate();
    const rotated = await sim.mint({ sub: "alice", aud: AUDIENCE });
    expect(await reasonOf(broker.verify(rotated))).toBe("unknown_key");
    expect(sim.fetchCount()).toBe(1);

    advance(30);
    await expect(broker.verify(rotated)).resolves.toMatchObject({ id: "ci:alice" });
    expect(sim.fetchCount()).toBe(2);
  });

  it("keeps verifying tokens signed by the previous key while it stays published", async () => {
    const { sim, verifier, advance } = await harness();
    const broker = verifier({ jwks_cache_seconds: 60, jwks_cooldown_seconds: 0 });
    const oldToken = await sim.mint({ sub: "alice", aud: AUDIENCE });
    await sim.rotate();
    advance(61);
    await expect(broker.verify(oldToken)).resolves.toMatchObject({ id: "ci:alice" });
    await expect(broker.verify(await sim.mint({ sub: "bob", aud: AUDIENCE }))).resolves.toMatchObject({
      id: "ci:bob",
    });
  });

  it("stops accepting a removed key after the cache period", async () => {
    const { sim, verifier, advance } = await harness();
    const broker = verifier({ jwks_cache_seconds: 60, jwks_cooldown_seconds: 0 });
    const oldKid = sim.currentKid();
    const oldToken = await sim.mint({ sub: "alice", aud: AUDIENCE }, { expiresInSeconds: 600 });
    await broker.verify(oldToken);

    await sim.rotate();
    sim.removeKey(oldKid);
    advance(30);
    await expect(broker.verify(oldToken)).resolves.toMatchObject({ id: "ci:alice" });

    advance(31);
    expect(await reasonOf(broker.verify(oldToken))).toBe("unknown_key");
  });

  it("answers unknown_key, not a server error, when the JWKS is unreachable and the kid is new", async () => {
    const { sim, verifier, advance, warnings } = await harness();
    const broker = verifier({ jwks_cooldown_seconds: 0 });
    await broker.verify(await sim.mint({ sub: "alice", aud: AUDIENCE }));
    sim.setUnreachable(true);
    await sim.rotate();
    advance(1);
    expect(await reasonOf(broker.verify(await sim.mint({ sub: "alice", aud: AUDIENCE })))).toBe(
      "unknown_key",
    );
    sim.setUnreachable(true, "503");
    expect(await reasonOf(broker.verify(await sim.mint({ sub: "alice", aud: AUDIENCE })))).toBe(
      "unknown_key",
    );
    expect(warnings.length).toBeGreaterThanOrEqual(2);
  });

  it("answers unknown_key when the issuer has never been reachable", async () => {
    const { sim, verifier } = await harness();
    sim.setUnreachable(true);
    expect(await reasonOf(verifier().verify(await sim.mint({ sub: "alice", aud: AUDIENCE })))).toBe(
      "unknown_key",
    );
  });

  it("keeps verifying with cached keys while the JWKS is unreachable, even past the cache period", async () => {
    const { sim, verifier, advance, warnings } = await harness();
    const broker = verifier({ jwks_cache_seconds: 60, jwks_cooldown_seconds: 0 });
    await broker.verify(await sim.mint({ sub: "alice", aud: AUDIENCE }));
    sim.setUnreachable(true);
    advance(120);
    await expect(broker.verify(await sim.mint({ sub: "alice", aud: AUDIENCE }))).resolves.toMatchObject({
      id: "ci:alice",
    });
    expect(warnings).toContain("JWKS refresh failed; still using the last good key set");
  });

  it("fails within the fetch timeout when the JWKS endpoint hangs", async () => {
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    const { sim, verifier } = await harness(hanging);
    const started = Date.now();
    expect(await reasonOf(verifier().verify(await sim.mint({ sub: "alice", aud: AUDIENCE })))).toBe(
      "unknown_key",
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("shares one JWKS fetch between concurrent requests", async () => {
    const { sim, verifier, fetched } = await harness();
    const broker = verifier();
    const tokens = await Promise.all(
      Array.from({ length: 10 }, (_, i) => sim.mint({ sub: `w${i}`, aud: AUDIENCE })),
    );
    await Promise.all(tokens.map((token) => broker.verify(token)));
    expect(sim.fetchCount()).toBe(1);
    expect(fetched).toHaveLength(2);
  });

  it("uses a configured jwks_uri without discovery", async () => {
    const { sim, verifier, fetched } = await harness();
    await verifier({ jwks_uri: sim.jwksUri }).verify(await sim.mint({ sub: "alice", aud: AUDIENCE }));
    expect(fetched).toEqual([sim.jwksUri]);
  });

  it("refuses a discovery document whose issuer differs from the configured one", async () => {
    const { sim, verifier, fetched } = await harness();
    sim.setDiscoveryOverrides({ issuer: `${sim.issuer}/other` });
    expect(await reasonOf(verifier().verify(await sim.mint({ sub: "alice", aud: AUDIENCE })))).toBe(
      "unknown_key",
    );
    expect(fetched).toEqual([`${sim.issuer}/.well-known/openid-configuration`]);
  });

  it("refuses a discovery document that points to a plain-http, non-loopback jwks_uri", async () => {
    const { sim, verifier, fetched } = await harness();
    sim.setDiscoveryOverrides({ jwks_uri: "http://keys.example.com/jwks.json" });
    expect(await reasonOf(verifier().verify(await sim.mint({ sub: "alice", aud: AUDIENCE })))).toBe(
      "unknown_key",
    );
    expect(fetched).toEqual([`${sim.issuer}/.well-known/openid-configuration`]);
  });

  it("accepts SPIFFE bundle keys marked use jwt-svid and ignores x509-svid roots", async () => {
    const bundleFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith("/jwks.json")) return response;
      const jwks = (await response.json()) as { keys: Array<Record<string, unknown>> };
      const keys = [
        ...jwks.keys.map((key) => ({ ...key, use: "jwt-svid" })),
        { kty: "EC", crv: "P-256", use: "x509-svid", x5c: ["AA"] },
      ];
      return Response.json({ keys, spiffe_sequence: 1 });
    };
    const { sim, verifier } = await harness(bundleFetch);
    const token = await sim.mint({ sub: "spiffe://example.org/agent", aud: AUDIENCE });
    await expect(verifier({ kind: "spiffe" }).verify(token)).resolves.toMatchObject({
      tags: { trust_domain: "example.org", path: "/agent" },
    });
  });

  it("keeps the dev issuer's tokens valid across a restart from its exported keys", async () => {
    const { sim, verifier } = await harness();
    await sim.rotate("RS256");
    const restarted = await createOidcIssuer({ issuerUrl: sim.issuer, keys: sim.oidc.exportKeys() });
    expect(restarted.currentKid()).toBe(sim.currentKid());
    expect(restarted.jwks()).toEqual(sim.oidc.jwks());
    const token = await restarted.mint({ sub: "alice", aud: AUDIENCE }, { alg: "ES256" });
    await expect(verifier().verify(token)).resolves.toMatchObject({ id: "ci:alice" });
  });
});

describe("a failed JWKS fetch is logged with its real cause", () => {
  it("names undici's cause (e.g. an unknown CA) instead of 'fetch failed'", async () => {
    const { describeFetchError } = await import("../../../src/auth/jwks-cache.js");
    const tls = Object.assign(new Error("unable to verify the first certificate"), {
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    expect(describeFetchError(new TypeError("fetch failed", { cause: tls }))).toBe(
      "fetch failed: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)",
    );
    const { freePort } = await import("../../../src/dev/dev-redis.js");
    const refused = await fetch(`http://127.0.0.1:${await freePort()}/jwks.json`).catch(
      (err: unknown) => err,
    );
    expect(describeFetchError(refused)).toMatch(/^fetch failed: .*ECONNREFUSED/);
  });
});
