import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAssertionVerifier } from "../../../src/auth/assertion-verifier.js";
import type { IssuerConfig } from "../../../src/config/config-schema.js";
import { BrokerError } from "../../../src/shared/errors.js";
import type { Logger } from "../../../src/shared/logger.js";
import { type OidcIssuerSim, startOidcIssuerSim } from "../../sims/oidc-issuer.js";

const AUDIENCE = "https://broker.test";
const clock = { now: () => Date.now() };
const nowSeconds = (): number => Math.floor(clock.now() / 1000);

let sim: OidcIssuerSim;
let otherSim: OidcIssuerSim;

beforeAll(async () => {
  sim = await startOidcIssuerSim({ clock });
  otherSim = await startOidcIssuerSim({ clock });
});

afterAll(async () => {
  await sim.close();
  await otherSim.close();
});

function verifierFor(
  overrides: Partial<IssuerConfig> = {},
  logger: Pick<Logger, "warn" | "debug"> = silent(),
) {
  return createAssertionVerifier({
    issuers: [sim.issuerConfig(overrides)],
    defaultAudience: AUDIENCE,
    clock,
    logger,
  });
}

function silent() {
  return { warn: () => {}, debug: () => {} };
}

/** Resolves to the BrokerError the promise rejects with, checking it never echoes the token. */
async function rejection(promise: Promise<unknown>, token: string): Promise<BrokerError> {
  const err = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(err instanceof BrokerError)) throw new Error(`expected a BrokerError, got ${String(err)}`);
  expect(err.code).toBe("invalid_assertion");
  expect(err.status).toBe(401);
  if (token.length > 0) {
    expect(err.message).not.toContain(token);
    expect(JSON.stringify(err.details)).not.toContain(token);
  }
  return err;
}

async function expectRejected(
  token: string,
  reason: string,
  overrides: Partial<IssuerConfig> = {},
): Promise<void> {
  const err = await rejection(verifierFor(overrides).verify(token), token);
  expect(err.details).toEqual({ reason });
}

describe("accepted assertions", () => {
  it("turns a valid oidc token into principal ci:<sub> with its scalar claims as tags", async () => {
    const token = await sim.mint({
      sub: "alice",
      aud: AUDIENCE,
      email: "alice@example.com",
      email_verified: true,
    });
    const principal = await verifierFor().verify(token);
    expect(principal).toMatchObject({ id: "ci:alice", issuer: "ci", subject: "alice", kind: "oidc" });
    expect(principal.claims).toMatchObject({ iss: sim.issuer, sub: "alice", email: "alice@example.com" });
    expect(principal.tags).toEqual({ email: "alice@example.com", email_verified: "true" });
  });

  it("gives a kubernetes service account its namespace and service account tags", async () => {
    const sub = "system:serviceaccount:agents:summariser";
    const token = await sim.mint({
      sub,
      aud: [AUDIENCE],
      "kubernetes.io": {
        namespace: "agents",
        serviceaccount: { name: "summariser", uid: "u1" },
        pod: { name: "p", uid: "u2" },
      },
    });
    const principal = await verifierFor({ kind: "kubernetes" }).verify(token);
    expect(principal.id).toBe(`ci:${sub}`);
    expect(principal.tags).toEqual({
      namespace: "agents",
      service_account: "summariser",
      service_account_uid: "u1",
      pod: "p",
      pod_uid: "u2",
    });
  });

  it("gives a github workflow its repository, ref and workflow tags", async () => {
    const sub = "repo:acme/api:environment:prod";
    const token = await sim.mint({
      sub,
      aud: AUDIENCE,
      repository: "acme/api",
      repository_id: "42",
      ref: "refs/heads/main",
      environment: "prod",
      job_workflow_ref: "acme/api/.github/workflows/deploy.yml@refs/heads/main",
      run_id: "7",
    });
    const principal = await verifierFor({ kind: "github" }).verify(token);
    expect(principal.id).toBe(`ci:${sub}`);
    expect(principal.tags).toEqual({
      repository: "acme/api",
      repository_id: "42",
      ref: "refs/heads/main",
      environment: "prod",
      job_workflow_ref: "acme/api/.github/workflows/deploy.yml@refs/heads/main",
    });
  });

  it("coerces a gitlab job's numeric and boolean claims to strings", async () => {
    const token = await sim.mint({
      sub: "project_path:group/project:ref_type:branch:ref:main",
      aud: AUDIENCE,
      project_id: 20,
      ref_protected: false,
      namespace_id: "10",
    });
    const principal = await verifierFor({ kind: "gitlab" }).verify(token);
    expect(principal.tags).toEqual({ project_id: "20", ref_protected: "false", namespace_id: "10" });
  });

  it("gives a SPIFFE workload its trust domain and path", async () => {
    const token = await sim.mint({ sub: "spiffe://example.org/ns/agents/sa/summariser", aud: AUDIENCE });
    const principal = await verifierFor({ kind: "spiffe" }).verify(token);
    expect(principal.id).toBe("ci:spiffe://example.org/ns/agents/sa/summariser");
    expect(principal.tags).toEqual({ trust_domain: "example.org", path: "/ns/agents/sa/summariser" });
  });

  it("requires the issuer's own audience when one is configured", async () => {
    const token = await sim.mint({ sub: "alice", aud: "client-123" });
    await expect(verifierFor({ audience: "client-123" }).verify(token)).resolves.toMatchObject({
      id: "ci:alice",
    });
    await rejection(verifierFor().verify(token), token);
  });

  it("accepts a caller-chosen audience for issuers that configure none", async () => {
    const token = await sim.mint({ sub: "alice", aud: "https://other.test" });
    await expect(verifierFor().verify(token, { audience: "https://other.test" })).resolves.toMatchObject({
      subject: "alice",
    });
  });

  it("verifies a token without kid against every published key of its algorithm", async () => {
    const oldKid = sim.currentKid();
    const token = await sim.mint(
      { sub: "alice", aud: AUDIENCE },
      { kid: oldKid, header: { kid: undefined } },
    );
    await sim.rotate("ES256");
    await expect(verifierFor().verify(token)).resolves.toMatchObject({ id: "ci:alice" });
  });
});

describe("rejected assertions", () => {
  it("rejects an expired token", async () => {
    const token = await sim.mint(
      { sub: "alice", aud: AUDIENCE },
      { iat: nowSeconds() - 1000, expiresInSeconds: 100 },
    );
    await expectRejected(token, "expired");
  });

  it("rejects a token addressed to another audience", async () => {
    const token = await sim.mint({ sub: "alice", aud: "https://kubernetes.default.svc" });
    await expectRejected(token, "wrong_audience");
  });

  it("rejects a token without an audience", async () => {
    const token = await sim.mint({ sub: "alice" });
    await expectRejected(token, "missing_claim");
  });

  it("rejects a token from an issuer that is not configured", async () => {
    const token = await otherSim.mint({ sub: "alice", aud: AUDIENCE });
    await expectRejected(token, "untrusted_issuer");
  });

  it("rejects a token that claims a trusted iss but is signed by someone else's key", async () => {
    const token = await otherSim.mint(
      { sub: "alice", aud: AUDIENCE, iss: sim.issuer },
      { header: { kid: sim.currentKid() } },
    );
    await expectRejected(token, "bad_signature");
  });

  it("rejects an unsigned alg:none token", async () => {
    const token = sim.mintNone({ sub: "alice", aud: AUDIENCE });
    await expectRejected(token, "alg_not_allowed");
  });

  it("rejects an HS256 token keyed with the issuer's public key (key confusion)", async () => {
    const published = sim.oidc.jwks().keys.find((key) => key.kid === sim.currentKid());
    const token = await sim.mintHs256(JSON.stringify(published), { sub: "alice", aud: AUDIENCE });
    await expectRejected(token, "alg_not_allowed", { algorithms: ["ES256", "RS256"] });
  });

  it("rejects a correctly signed token whose algorithm the issuer does not allow", async () => {
    const token = await sim.mint({ sub: "alice", aud: AUDIENCE }, { alg: "RS256" });
    await expect(verifierFor({ algorithms: ["RS256"] }).verify(token)).resolves.toMatchObject({
      id: "ci:alice",
    });
    await expectRejected(token, "alg_not_allowed", { algorithms: ["ES256"] });
  });

  it("rejects a still-valid token issued longer ago than the maximum token age", async () => {
    const token = await sim.mint(
      { sub: "alice", aud: AUDIENCE },
      { iat: nowSeconds() - 7200, expiresInSeconds: 86_400 },
    );
    await expectRejected(token, "too_old", { max_token_age_seconds: 3600 });
  });

  it("rejects a fresh token whose lifetime exceeds the maximum token age (year-long kubernetes tokens)", async () => {
    const token = await sim.mint({ sub: "alice", aud: AUDIENCE }, { expiresInSeconds: 365 * 86_400 });
    await expectRejected(token, "lifetime_too_long", { max_token_age_seconds: 3600 });
  });

  it("rejects a token that is not valid yet", async () => {
    const token = await sim.mint({ sub: "alice", aud: AUDIENCE, nbf: nowSeconds() + 600 });
    await expectRejected(token, "not_yet_valid");
  });

  it("rejects a token without iat", async () => {
    const token = await sim.mint({ sub: "alice", aud: AUDIENCE, iat: undefined });
    await expectRejected(token, "missing_claim");
  });

  it.each([
    ["crit", { crit: ["urn:example:ext"], "urn:example:ext": true }],
    ["jku", { jku: "https://attacker.example/jwks.json" }],
    ["x5u", { x5u: "https://attacker.example/cert.pem" }],
    ["x5c", { x5c: ["MIIB"] }],
    ["jwk", { jwk: { kty: "EC", crv: "P-256", x: "AA", y: "AA" } }],
  ])("rejects a token carrying a %s header", async (_name, header) => {
    const token = await sim.mint({ sub: "alice", aud: AUDIENCE }, { header });
    await expectRejected(token, "unsupported_header");
  });

  it.each([
    ["an empty string", ""],
    ["two segments", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0"],
    ["a JWE-shaped token", "a.b.c.d.e"],
    ["garbage segments", "%%%.%%%.%%%"],
  ])("rejects %s as malformed", async (_name, token) => {
    await expectRejected(token, "malformed");
  });

  it("rejects a token larger than 16 KiB before parsing it", async () => {
    const token = await sim.mint({ sub: "alice", aud: AUDIENCE, padding: "x".repeat(17_000) });
    await expectRejected(token, "too_large");
  });

  it("rejects a spiffe token whose subject is not a SPIFFE ID", async () => {
    const token = await sim.mint({ sub: "alice", aud: AUDIENCE });
    await expectRejected(token, "invalid_subject", { kind: "spiffe" });
  });

  it("rejects a spiffe token with a typ other than JWT or JOSE", async () => {
    const token = await sim.mint(
      { sub: "spiffe://example.org/w", aud: AUDIENCE },
      { header: { typ: "at+jwt" } },
    );
    await expectRejected(token, "unsupported_header", { kind: "spiffe" });
  });

  it("never writes the token into logs", async () => {
    const lines: string[] = [];
    const record = (fields: unknown, message?: string) =>
      void lines.push(JSON.stringify({ fields, message }));
    const { privateKey } = await generateKeyPair("ES256");
    const forged = await new SignJWT({ sub: "alice", aud: AUDIENCE, iss: sim.issuer })
      .setProtectedHeader({ alg: "ES256", kid: sim.currentKid() })
      .setIssuedAt(nowSeconds())
      .setExpirationTime(nowSeconds() + 60)
      .sign(privateKey);
    const verifier = verifierFor({}, { warn: record, debug: record });
    await rejection(verifier.verify(forged), forged);
    expect(lines.length).toBeGreaterThan(0);
    const signature = forged.split(".")[2] ?? forged;
    for (const line of lines) {
      expect(line).not.toContain(forged);
      expect(line).not.toContain(signature);
    }
  });
});

describe("configuration errors", () => {
  it("refuses to start when an issuer wants a replay guard and none is given", () => {
    expect(() =>
      createAssertionVerifier({
        issuers: [sim.issuerConfig({ replay_guard: true })],
        defaultAudience: AUDIENCE,
        clock,
      }),
    ).toThrow(/replay_guard/);
  });
});
