import { createHash } from "node:crypto";
import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
  type ProtectedHeaderParameters,
} from "jose";
import type { IssuerConfig } from "../config/config-schema.js";
import type { Clock } from "../shared/clock.js";
import { BrokerError, isBrokerError, unavailable } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { fetchTrusting } from "./ca-fetch.js";
import { normaliseClaims } from "./claim-normalisation.js";
import { createJwksCache, type JwksCache } from "./jwks-cache.js";
import type { Principal } from "./principal.js";
import type { ReplayGuard } from "./replay-guard.js";
import { createVerifiedCache } from "./verified-cache.js";

export interface AssertionVerifierDeps {
  /** Trusted issuers; each `issuer` (exact `iss`) must be unique. */
  issuers: IssuerConfig[];
  /** Audience required when an issuer configures none (`server.audience`). */
  defaultAudience: string;
  clock: Clock;
  /** Required when any issuer has `replay_guard: true`. */
  replayGuard?: ReplayGuard;
  /** Used for discovery and JWKS fetches; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** JWKS/discovery fetch timeout. Default 3000 ms. */
  jwksTimeoutMs?: number;
  logger?: Pick<Logger, "warn" | "debug">;
}

export interface VerifyAssertionOptions {
  /** Audience to require instead of `defaultAudience`, for issuers that configure no `audience`. */
  audience?: string;
}

/** Checks workload assertions (inbound JWTs) and turns them into principals. */
export interface AssertionVerifier {
  /**
   * Runs the validation pipeline of standards.md §1.1. Rejects with `BrokerError("invalid_assertion")`
   * whose `details.reason` is an {@link AssertionRejectionReason}; with `unavailable` only when the replay
   * store cannot be written.
   */
  verify(token: string, options?: VerifyAssertionOptions): Promise<Principal>;
}

/** Machine-readable `details.reason` of an `invalid_assertion` error. */
export type AssertionRejectionReason =
  | "malformed"
  | "too_large"
  | "unsupported_header"
  | "alg_not_allowed"
  | "untrusted_issuer"
  | "unknown_key"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "too_old"
  | "lifetime_too_long"
  | "wrong_audience"
  | "missing_claim"
  | "invalid_claims"
  | "invalid_subject"
  | "replayed"
  | "unverifiable";

const REJECTION_MESSAGES: Record<AssertionRejectionReason, string> = {
  malformed: "The bearer token is not a well-formed signed JWT.",
  too_large: "The bearer token is larger than 16 KiB.",
  unsupported_header: "The assertion uses a header parameter this broker does not accept.",
  alg_not_allowed: "The assertion's signing algorithm is not allowed for its issuer.",
  untrusted_issuer: "The assertion's issuer is not trusted by this broker.",
  unknown_key: "The assertion is signed with a key its issuer does not publish.",
  bad_signature: "The assertion's signature is not valid.",
  expired: "The assertion has expired.",
  not_yet_valid: "The assertion is not valid yet.",
  too_old: "The assertion was issued longer ago than its issuer's maximum token age.",
  lifetime_too_long: "The assertion's lifetime (exp - iat) exceeds its issuer's maximum token age.",
  wrong_audience: "The assertion is not addressed to this broker (aud).",
  missing_claim: "The assertion lacks a required claim (exp, iat, sub, aud).",
  invalid_claims: "The assertion's claims are not valid.",
  invalid_subject: "The assertion's subject is not valid for its issuer.",
  replayed: "The assertion has already been used.",
  unverifiable: "The assertion could not be verified.",
};

const MAX_ASSERTION_BYTES = 16 * 1024;
const CLOCK_TOLERANCE_SECONDS = 60;
/** Replay records outlive the assertion by the clock tolerance, so a skewed replica cannot accept it again. */
const REPLAY_LEEWAY_SECONDS = 60;
/** Header parameters that carry or point to keys (RFC 8725 §3.10), and `crit` (no extension is understood). */
const FORBIDDEN_HEADERS = ["crit", "jku", "x5u", "jwk", "x5c"] as const;
/** SPIFFE JWT-SVID: `typ`, when present, must be one of these. */
const SPIFFE_TYPES = new Set(["JWT", "JOSE"]);
const MAX_JTI_KEY_LENGTH = 200;

interface TrustedIssuer {
  config: IssuerConfig;
  algorithms: ReadonlySet<string>;
  jwks: JwksCache;
}

/** Longest a verified assertion is reused without verifying its signature again. */
const MAX_REUSE_SECONDS = 60;

const silentLogger: Pick<Logger, "warn" | "debug"> = { warn: () => {}, debug: () => {} };

export const rejectAssertion = (reason: AssertionRejectionReason, cause?: unknown): BrokerError =>
  new BrokerError("invalid_assertion", REJECTION_MESSAGES[reason], { details: { reason }, cause });

export function createAssertionVerifier(deps: AssertionVerifierDeps): AssertionVerifier {
  const logger = deps.logger ?? silentLogger;
  const trusted = new Map<string, TrustedIssuer>();
  /** SPIFFE issuers by trust domain: JWT-SVIDs without `iss` are matched by their `sub`. */
  const byTrustDomain = new Map<string, TrustedIssuer>();
  for (const config of deps.issuers) {
    if (trusted.has(config.issuer)) throw new Error(`Two configured issuers share the iss ${config.issuer}.`);
    if (config.replay_guard && !deps.replayGuard) {
      throw new Error(`Issuer ${config.name} enables replay_guard but no replay guard store was provided.`);
    }
    const jwks = createJwksCache({
      issuer: config,
      clock: deps.clock,
      fetch: config.ca_file ? fetchTrusting(config.ca_file) : deps.fetch,
      timeoutMs: deps.jwksTimeoutMs,
      logger,
    });
    const entry = { config, algorithms: new Set<string>(config.algorithms), jwks };
    trusted.set(config.issuer, entry);
    if (config.trust_domain) {
      if (byTrustDomain.has(config.trust_domain)) {
        throw new Error(`Two configured issuers share the SPIFFE trust domain ${config.trust_domain}.`);
      }
      byTrustDomain.set(config.trust_domain, entry);
    }
  }

  const cache = createVerifiedCache({ clock: deps.clock, maxEntries: 10_000 });
  const byName = new Map(deps.issuers.map((config) => [config.name, config]));

  /** Until when a verified principal may be reused; 0 (never) for replay-guarded issuers. */
  function reusableUntil(principal: Principal): number {
    const config = byName.get(principal.issuer);
    const { exp, iat } = principal.claims;
    if (!config || config.replay_guard || typeof exp !== "number" || typeof iat !== "number") return 0;
    const now = deps.clock.now();
    return Math.min(
      exp * 1000,
      (iat + config.max_token_age_seconds) * 1000,
      now + Math.min(MAX_REUSE_SECONDS, config.jwks_cache_seconds) * 1000,
    );
  }

  async function verify(token: string, options: VerifyAssertionOptions = {}): Promise<Principal> {
    const cached = cache.get(token, options.audience);
    if (cached) return cached;
    try {
      const principal = await verifyAssertion(token, options);
      cache.set(token, options.audience, principal, reusableUntil(principal));
      return principal;
    } catch (err) {
      if (isBrokerError(err))
        logger.debug({ code: err.code, reason: err.details?.reason }, "assertion rejected");
      throw err;
    }
  }

  async function verifyAssertion(token: string, options: VerifyAssertionOptions): Promise<Principal> {
    const header = readHeader(token);
    const { issuer, claims } = selectIssuer(token);
    const { config } = issuer;
    if (!issuer.algorithms.has(header.alg)) throw rejectAssertion("alg_not_allowed");
    if (config.kind === "spiffe" && header.typ !== undefined && !SPIFFE_TYPES.has(header.typ)) {
      throw rejectAssertion("unsupported_header");
    }
    const audience = config.audience ?? options.audience ?? deps.defaultAudience;
    const payload = await verifySignatureAndClaims(token, issuer, claims, audience);
    const subject = payload.sub;
    if (typeof subject !== "string" || subject.length === 0) throw rejectAssertion("invalid_claims");
    const exp = payload.exp ?? 0;
    const issuedAt = payload.iat ?? Math.floor(deps.clock.now() / 1000);
    if (exp - issuedAt > config.max_token_age_seconds + CLOCK_TOLERANCE_SECONDS) {
      throw rejectAssertion("lifetime_too_long");
    }
    if (config.trust_domain && trustDomainOf(subject) !== config.trust_domain) {
      throw rejectAssertion("invalid_subject");
    }
    const tags = normaliseClaims(config.kind, payload);
    if (config.replay_guard && deps.replayGuard) {
      await claimOnce(deps.replayGuard, config.name, token, payload.jti, exp);
    }
    return {
      id: `${config.name}:${subject}`,
      issuer: config.name,
      subject,
      kind: config.kind,
      claims: payload,
      tags,
    };
  }

  /** The trusted issuer the token names (or, for a JWT-SVID without `iss`, its trust domain), and its claims unverified. */
  function selectIssuer(token: string): { issuer: TrustedIssuer; claims: JWTPayload } {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch (err) {
      throw rejectAssertion("malformed", err);
    }
    const issuer =
      typeof claims.iss === "string"
        ? trusted.get(claims.iss)
        : claims.iss === undefined
          ? byTrustDomain.get(trustDomainOf(claims.sub) ?? "")
          : undefined;
    if (!issuer) throw rejectAssertion("untrusted_issuer");
    return { issuer, claims };
  }

  async function verifySignatureAndClaims(
    token: string,
    issuer: TrustedIssuer,
    claims: JWTPayload,
    audience: string,
  ): Promise<JWTPayload> {
    // A JWT-SVID may lack `iss` and `iat` (SPIFFE JWT-SVID §3): then its age is bounded by `exp` below.
    const spiffe = issuer.config.kind === "spiffe";
    const options: JWTVerifyOptions = {
      issuer: spiffe && claims.iss === undefined ? undefined : issuer.config.issuer,
      audience,
      algorithms: [...issuer.algorithms],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      maxTokenAge: spiffe && claims.iat === undefined ? undefined : issuer.config.max_token_age_seconds,
      requiredClaims: spiffe ? ["exp", "sub"] : ["exp", "iat", "sub"],
      currentDate: new Date(deps.clock.now()),
    };
    try {
      return await verifyWithAnyMatchingKey(token, issuer.jwks, options);
    } catch (err) {
      const reason = rejectionReasonOf(err);
      if (reason === "unverifiable") {
        const error = err instanceof Error ? err.name : typeof err;
        logger.warn({ issuer: issuer.config.name, error }, "assertion verification failed unexpectedly");
      }
      throw rejectAssertion(reason, err);
    }
  }

  async function claimOnce(
    guard: ReplayGuard,
    issuerName: string,
    token: string,
    jti: unknown,
    exp: number,
  ): Promise<void> {
    const id = typeof jti === "string" && jti.length > 0 ? jti : sha256(token);
    const key = id.length > MAX_JTI_KEY_LENGTH ? sha256(id) : id;
    let first: boolean;
    try {
      first = await guard.claim(issuerName, key, (exp + REPLAY_LEEWAY_SECONDS) * 1000);
    } catch (err) {
      throw unavailable(err);
    }
    if (!first) throw rejectAssertion("replayed");
  }

  return { verify };
}

/** Size, compact serialisation and header checks, before anything else is read from the token. */
function readHeader(token: string): ProtectedHeaderParameters & { alg: string } {
  if (typeof token !== "string" || token.length === 0) throw rejectAssertion("malformed");
  if (Buffer.byteLength(token, "utf8") > MAX_ASSERTION_BYTES) throw rejectAssertion("too_large");
  if (token.split(".").length !== 3) throw rejectAssertion("malformed");
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    throw rejectAssertion("malformed", err);
  }
  const { alg } = header;
  if (typeof alg !== "string") throw rejectAssertion("malformed");
  if (alg.toLowerCase() === "none" || alg.toUpperCase().startsWith("HS"))
    throw rejectAssertion("alg_not_allowed");
  if (FORBIDDEN_HEADERS.some((name) => Object.hasOwn(header, name)))
    throw rejectAssertion("unsupported_header");
  return { ...header, alg };
}

/**
 * Without a `kid`, several keys of the right type can match; try each (the JWKS is the issuer's own, so
 * this only costs time) and accept the first valid signature.
 */
async function verifyWithAnyMatchingKey(
  token: string,
  jwks: JwksCache,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, jwks.getKey, options)).payload;
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if (errorCodeOf(inner) !== "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

function isJoseError(err: unknown): err is errors.AnyJOSEError {
  return err instanceof errors.JOSEError;
}

function errorCodeOf(err: unknown): string | undefined {
  return err instanceof errors.JOSEError ? err.code : undefined;
}

/** Maps jose's stable error codes (never message text) to rejection reasons. */
function rejectionReasonOf(err: unknown): AssertionRejectionReason {
  if (!isJoseError(err)) return "unverifiable";
  switch (err.code) {
    case "ERR_JWT_EXPIRED":
      return err.claim === "iat" ? "too_old" : "expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (err.reason === "missing") return "missing_claim";
      if (err.claim === "aud") return "wrong_audience";
      if (err.claim === "iss") return "untrusted_issuer";
      if ((err.claim === "nbf" || err.claim === "iat") && err.reason === "check_failed")
        return "not_yet_valid";
      return "invalid_claims";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return "bad_signature";
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JWK_INVALID":
    case "ERR_JWKS_INVALID":
      return "unknown_key";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return "alg_not_allowed";
    default:
      return "malformed";
  }
}

function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** The trust domain of a SPIFFE ID (`spiffe://<trust domain>/…`), or undefined. */
function trustDomainOf(sub: unknown): string | undefined {
  if (typeof sub !== "string") return undefined;
  return /^spiffe:\/\/([a-z0-9._-]{1,255})\//.exec(sub)?.[1];
}
