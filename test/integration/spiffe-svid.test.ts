import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../support/broker-harness.js";
import { TEST_POLICY } from "../support/test-policy.js";

/**
 * SPIFFE JWT-SVIDs as SPIRE issues them by default: no `iss`, often no `iat`, keys from the trust domain's
 * bundle endpoint (`use: jwt-svid`). Matched by the `sub`'s trust domain; age bounded by `exp`.
 */

let bundle: Server;
let h: Harness;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let base: string;

beforeAll(async () => {
  const pair = await generateKeyPair("ES256");
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "svid-key-1", use: "jwt-svid" };
  bundle = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [jwk], spiffe_sequence: 1, spiffe_refresh_hint: 60 }));
  });
  await new Promise<void>((resolve) => bundle.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(bundle.address() as AddressInfo).port}`;
  h = await startHarness({
    name: "spiffe",
    policy: TEST_POLICY.replaceAll('principal.issuer == "ci"', 'principal.issuer == "spire"'),
    config: {
      issuers: [
        {
          name: "spire",
          kind: "spiffe",
          issuer: base,
          jwks_uri: `${base}/bundle`,
          trust_domain: "example.org",
          algorithms: ["ES256"],
          jwks_cooldown_seconds: 0,
        },
      ],
    },
  });
}, 30_000);
afterAll(async () => {
  await h?.close();
  bundle?.close();
});

const svid = (claims: JWTPayload) =>
  new SignJWT({ aud: "credbroker-test", ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "svid-key-1", typ: "JWT" })
    .sign(privateKey);

const openTask = async (token: string) =>
  h.call("POST", "/v1/tasks", { token, body: { intent: "svid", ttl_seconds: 60 } });
const now = () => Math.floor(Date.now() / 1000);

describe("SPIFFE JWT-SVIDs", () => {
  it("an SVID without iss or iat is matched by its trust domain and accepted", async () => {
    const res = await openTask(await svid({ sub: "spiffe://example.org/agents/bot", exp: now() + 300 }));
    expect(res.status, res.text).toBe(201);
    expect(res.body.agent).toBe("spire:spiffe://example.org/agents/bot");
  });

  it("with iss it must be the configured issuer; with iat the usual age bound applies", async () => {
    const ok = await svid({
      sub: "spiffe://example.org/agents/bot",
      iss: base,
      iat: now(),
      exp: now() + 300,
    });
    expect((await openTask(ok)).status).toBe(201);
    const wrongIss = await svid({
      sub: "spiffe://example.org/agents/bot",
      iss: "https://elsewhere.example",
      exp: now() + 300,
    });
    expect((await openTask(wrongIss)).body.error.details.reason).toBe("untrusted_issuer");
  });

  it("without iat, the age is bounded by exp: a two-hour SVID is refused", async () => {
    const long = await svid({ sub: "spiffe://example.org/agents/bot", exp: now() + 7_200 });
    const res = await openTask(long);
    expect(res.status).toBe(401);
    expect(res.body.error.details.reason).toBe("lifetime_too_long");
  });

  it("another trust domain is not this issuer's to vouch for", async () => {
    const foreign = await svid({ sub: "spiffe://evil.example/agents/bot", exp: now() + 300 });
    expect((await openTask(foreign)).body.error.details.reason).toBe("untrusted_issuer");
    const claimed = await svid({
      sub: "spiffe://evil.example/agents/bot",
      iss: base,
      iat: now(),
      exp: now() + 300,
    });
    expect((await openTask(claimed)).body.error.details.reason).toBe("invalid_subject");
  });
});
