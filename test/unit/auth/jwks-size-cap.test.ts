import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAssertionVerifier } from "../../../src/auth/assertion-verifier.js";
import { BrokerError } from "../../../src/shared/errors.js";
import { type OidcIssuerSim, startOidcIssuerSim } from "../../sims/oidc-issuer.js";
import {
  type OversizedBodyOptions,
  type OversizedBodyServer,
  startOversizedBodyServer,
} from "../../sims/oversized-body-server.js";

const AUDIENCE = "https://broker.test";
const MB = 1024 * 1024;
const HUGE = 50 * MB;
/** Loose: the broker may hold the cap plus a chunk or two; the body is 50 MB. */
const MAX_GROWTH = 64 * MB;

let sim: OidcIssuerSim;
const servers: OversizedBodyServer[] = [];

beforeAll(async () => {
  sim = await startOidcIssuerSim();
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await sim.close();
});

async function hugeServer(options: Partial<OversizedBodyOptions> = {}): Promise<OversizedBodyServer> {
  const server = await startOversizedBodyServer({ totalBytes: HUGE, ...options });
  servers.push(server);
  return server;
}

/** Memory that a buffered body would show up in: resident set and array buffers. */
function memory(): { rss: number; arrayBuffers: number } {
  const { rss, arrayBuffers } = process.memoryUsage();
  return { rss, arrayBuffers };
}

/** Verifies `token` and returns the rejection, the time it took, memory growth and the warnings logged. */
async function attempt(verify: (token: string) => Promise<unknown>, token: string) {
  const before = memory();
  const startedAt = Date.now();
  const err = await verify(token).then(
    () => undefined,
    (error: unknown) => error,
  );
  const elapsedMs = Date.now() - startedAt;
  const after = memory();
  return {
    err,
    elapsedMs,
    rssGrowth: after.rss - before.rss,
    arrayBuffersGrowth: after.arrayBuffers - before.arrayBuffers,
  };
}

function verifierWith(
  issuer: Parameters<typeof createAssertionVerifier>[0]["issuers"][number],
  warnings: string[],
) {
  return createAssertionVerifier({
    issuers: [issuer],
    defaultAudience: AUDIENCE,
    clock: { now: () => Date.now() },
    logger: {
      warn: (fields: unknown) => void warnings.push(JSON.stringify(fields)),
      debug: () => {},
    },
  });
}

function expectUnknownKey(err: unknown): void {
  expect(err).toBeInstanceOf(BrokerError);
  expect((err as BrokerError).code).toBe("invalid_assertion");
  expect((err as BrokerError).details).toEqual({ reason: "unknown_key" });
}

describe("issuer documents are read at most 512 KiB", () => {
  it("a 50 MB JWKS streamed slowly is refused as unknown_key, aborted early, without buffering it", async () => {
    const server = await hugeServer();
    const warnings: string[] = [];
    const verifier = verifierWith(sim.issuerConfig({ jwks_uri: `${server.url}/jwks.json` }), warnings);
    const token = await sim.mint({ sub: "alice", aud: AUDIENCE });

    const result = await attempt((t) => verifier.verify(t), token);
    const answer = await server.nextAnswer();

    expectUnknownKey(result.err);
    expect(warnings.join(" ")).toContain("returned more than 524288 bytes");
    expect(answer.closedEarly).toBe(true);
    expect(answer.bytesSent).toBeLessThan(HUGE / 4);
    expect(result.elapsedMs).toBeLessThan(2_000);
    expect(result.rssGrowth).toBeLessThan(MAX_GROWTH);
    expect(result.arrayBuffersGrowth).toBeLessThan(MAX_GROWTH);
    console.info(
      `50 MB JWKS: refused in ${result.elapsedMs} ms; server sent ${(answer.bytesSent / MB).toFixed(2)} MB ` +
        `before the close; rss +${(result.rssGrowth / MB).toFixed(1)} MB, ` +
        `arrayBuffers +${(result.arrayBuffersGrowth / MB).toFixed(1)} MB`,
    );
  });

  it("a JWKS that declares a 50 MB Content-Length is refused before its body is read", async () => {
    const server = await hugeServer({ declareLength: true, pauseMs: 5 });
    const warnings: string[] = [];
    const verifier = verifierWith(sim.issuerConfig({ jwks_uri: `${server.url}/jwks.json` }), warnings);
    const result = await attempt((t) => verifier.verify(t), await sim.mint({ sub: "alice", aud: AUDIENCE }));
    const answer = await server.nextAnswer();

    expectUnknownKey(result.err);
    expect(answer.closedEarly).toBe(true);
    expect(answer.bytesSent).toBeLessThan(HUGE / 4);
  });

  it("a 50 MB discovery document is refused the same way", async () => {
    const server = await hugeServer({ prefix: '{"issuer":"x","jwks_uri":"' });
    const { privateKey } = await generateKeyPair("ES256");
    const token = await new SignJWT({ sub: "alice", aud: AUDIENCE })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(server.url)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    const warnings: string[] = [];
    const verifier = verifierWith(sim.issuerConfig({ issuer: server.url, jwks_uri: undefined }), warnings);

    const result = await attempt((t) => verifier.verify(t), token);
    const answer = await server.nextAnswer();

    expectUnknownKey(result.err);
    expect(answer.path).toBe("/.well-known/openid-configuration");
    expect(warnings.join(" ")).toContain("returned more than 524288 bytes");
    expect(answer.closedEarly).toBe(true);
    expect(answer.bytesSent).toBeLessThan(HUGE / 4);
    expect(result.elapsedMs).toBeLessThan(2_000);
    expect(result.rssGrowth).toBeLessThan(MAX_GROWTH);
  });
});
