import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { decodeJwt, type JWTVerifyGetKey, jwtVerify } from "jose";
import { ASSERTION_ALGORITHMS, RESOURCE_SERVER_ISSUER } from "../config/config-schema.js";
import type { Clock } from "../shared/clock.js";
import { BrokerError } from "../shared/errors.js";
import type { Principal } from "./principal.js";
import type { ReplayGuard } from "./replay-guard.js";

/**
 * OAuth client authentication (RFC 6749 §2.3) for the resource servers declared in `resource_servers`:
 * `client_secret_basic` and `private_key_jwt` (RFC 7523 §2.2). A client that passes becomes the principal
 * `rs:<client_id>`. Every failure is the same 401 `invalid_client` to the caller; `details.reason` is for
 * the audit log only (the error handler does not send it).
 */

/** A resource server as the authenticator needs it; built by the wiring from the config and env. */
export interface ResourceServerClient {
  clientId: string;
  /** Token audiences it may introspect. */
  audiences: readonly string[];
  /** SHA-256 of its client secret, when it may use `client_secret_basic`. */
  secretDigest?: Buffer;
  /** Its public keys, when it may use `private_key_jwt`. */
  keys?: JWTVerifyGetKey;
}

export interface ResourceServerAuthenticator {
  /** `client_secret_basic`: the id and secret already decoded from the Basic header. */
  withSecret(clientId: string, secret: string): Promise<Principal>;
  /** `private_key_jwt`: the `client_assertion`, and the `client_id` form field when the client sent one. */
  withAssertion(assertion: string, clientId: string | undefined): Promise<Principal>;
}

export interface ResourceServerAuthDeps {
  clients: readonly ResourceServerClient[];
  /** `aud` values a client assertion may carry: the introspection endpoint URL and the broker's issuer. */
  assertionAudiences: readonly string[];
  replayGuard: ReplayGuard;
  clock: Clock;
}

/** An assertion may live at most this long (exp − now), which bounds the replay records. */
const MAX_ASSERTION_LIFETIME_SECONDS = 600;
/** Skew allowed on the assertion's `exp`, `nbf` and `iat`. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** The 401 every failed client authentication answers; `basic` adds the RFC 6749 §5.2 challenge. */
export function invalidClient(reason: string, basic = false): BrokerError {
  return new BrokerError("invalid_client", "Client authentication failed.", {
    details: { reason },
    ...(basic ? { headers: { "WWW-Authenticate": 'Basic realm="credbroker"' } } : {}),
  });
}

export const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/** The principal of an authenticated resource server. */
export function resourceServerPrincipal(client: ResourceServerClient): Principal {
  return {
    id: `${RESOURCE_SERVER_ISSUER}:${client.clientId}`,
    issuer: RESOURCE_SERVER_ISSUER,
    subject: client.clientId,
    kind: "resource_server",
    claims: {},
    tags: {},
    resourceServer: { clientId: client.clientId, audiences: client.audiences },
  };
}

export function createResourceServerAuthenticator(deps: ResourceServerAuthDeps): ResourceServerAuthenticator {
  const byId = new Map(deps.clients.map((client) => [client.clientId, client]));
  /** Compared against when the client is unknown, so an unknown id costs the same as a wrong secret. */
  const decoy = createHash("sha256").update(randomBytes(32)).digest();

  async function withSecret(clientId: string, secret: string): Promise<Principal> {
    const client = byId.get(clientId);
    const matches = timingSafeEqual(sha256(secret), client?.secretDigest ?? decoy);
    if (!client?.secretDigest || !matches) throw invalidClient("secret_mismatch", true);
    return resourceServerPrincipal(client);
  }

  async function withAssertion(assertion: string, clientId: string | undefined): Promise<Principal> {
    const claimedIssuer = unverifiedIssuer(assertion);
    if (clientId !== undefined && clientId !== claimedIssuer) throw invalidClient("client_id_mismatch");
    const client = byId.get(claimedIssuer);
    if (!client?.keys) throw invalidClient("unknown_client");
    const { jti, exp } = await verifiedAssertion(assertion, client.clientId, client.keys);
    const nowSeconds = deps.clock.now() / 1000;
    if (exp - nowSeconds > MAX_ASSERTION_LIFETIME_SECONDS) throw invalidClient("lifetime_too_long");
    const expiresAtMs = (exp + CLOCK_TOLERANCE_SECONDS) * 1000;
    const first = await deps.replayGuard.claim(
      `${RESOURCE_SERVER_ISSUER}:${client.clientId}`,
      jti,
      expiresAtMs,
    );
    if (!first) throw invalidClient("replayed");
    return resourceServerPrincipal(client);
  }

  async function verifiedAssertion(
    assertion: string,
    clientId: string,
    keys: JWTVerifyGetKey,
  ): Promise<{ jti: string; exp: number }> {
    try {
      const { payload } = await jwtVerify(assertion, keys, {
        issuer: clientId,
        subject: clientId,
        audience: [...deps.assertionAudiences],
        algorithms: [...ASSERTION_ALGORITHMS],
        requiredClaims: ["exp", "jti"],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(deps.clock.now()),
      });
      if (typeof payload.jti !== "string" || payload.jti === "" || typeof payload.exp !== "number") {
        throw invalidClient("malformed_assertion");
      }
      return { jti: payload.jti, exp: payload.exp };
    } catch (err) {
      if (err instanceof BrokerError) throw err;
      const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "invalid";
      throw invalidClient(`assertion_${code}`);
    }
  }

  return { withSecret, withAssertion };
}

/** The `iss` of a client assertion before verification: it only picks the client whose keys verify it. */
function unverifiedIssuer(assertion: string): string {
  try {
    const { iss } = decodeJwt(assertion);
    if (typeof iss === "string" && iss !== "") return iss;
  } catch {
    // fall through: a malformed assertion is refused like any other
  }
  throw invalidClient("malformed_assertion");
}
