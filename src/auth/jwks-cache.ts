import {
  type CryptoKey,
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from "jose";
import { type IssuerConfig, isAllowedUrl } from "../config/config-schema.js";
import { discardBody, readBoundedText } from "../shared/bounded-body.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";

/** The fields of an issuer's configuration that decide where its keys come from and how long they live. */
export type JwksIssuerConfig = Pick<
  IssuerConfig,
  "name" | "issuer" | "jwks_uri" | "jwks_cache_seconds" | "jwks_cooldown_seconds"
>;

export interface JwksCacheDeps {
  issuer: JwksIssuerConfig;
  clock: Clock;
  /** Injectable for tests; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Per-request timeout for discovery and JWKS fetches. Default 3000 ms. */
  timeoutMs?: number;
  logger?: Pick<Logger, "warn" | "debug">;
}

/**
 * One issuer's public signing keys, fetched from its JWKS and kept for `jwks_cache_seconds`.
 *
 * Refresh rules: a stale key set is refreshed before use; a `kid` the set does not hold triggers one
 * refetch, at most once per `jwks_cooldown_seconds` (counted from the last fetch attempt of any kind);
 * concurrent refreshes share one fetch. A failed refresh keeps the last good key set (and logs a warning),
 * so an unreachable JWKS never fails a request that a cached key can verify. A key removed from the JWKS
 * stops verifying after the next successful refresh.
 */
export interface JwksCache {
  /**
   * jose key resolver: selects the key matching the header's `kid`/`alg` (the JWK's `kty`, `crv` and `alg`
   * must agree with the header `alg`). Throws jose's `ERR_JWKS_NO_MATCHING_KEY` when no key matches even
   * after the allowed refetch, or `ERR_JWKS_MULTIPLE_MATCHING_KEYS` (iterable candidates) without a `kid`.
   */
  getKey(protectedHeader: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey>;
  /** Fetches now unless a fetch is already running; never throws. For start-up warm-up. */
  refresh(): Promise<void>;
}

type KeySelector = ReturnType<typeof createLocalJWKSet>;

interface CachedKeySet {
  select: KeySelector;
  fetchedAt: number;
}

const DEFAULT_TIMEOUT_MS = 3000;
/**
 * A JWKS or discovery document larger than this is refused (real ones are a few KiB); the read stops as
 * soon as more has arrived.
 */
export const MAX_DOCUMENT_BYTES = 512 * 1024;
const SIGNING_KEY_TYPES = new Set(["RSA", "EC", "OKP"]);

const silentLogger: Pick<Logger, "warn" | "debug"> = { warn: () => {}, debug: () => {} };

export function createJwksCache(deps: JwksCacheDeps): JwksCache {
  const { issuer, clock } = deps;
  const fetchImpl = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const logger = deps.logger ?? silentLogger;
  const cacheMs = issuer.jwks_cache_seconds * 1000;
  const cooldownMs = issuer.jwks_cooldown_seconds * 1000;

  let keySet: CachedKeySet | undefined;
  let lastAttemptAt: number | undefined;
  let lastAttemptFailed = false;
  let inflight: Promise<void> | undefined;

  const cooldownOver = (): boolean =>
    lastAttemptAt === undefined || clock.now() - lastAttemptAt >= cooldownMs;
  const isStale = (): boolean => keySet === undefined || clock.now() - keySet.fetchedAt >= cacheMs;

  function refresh(): Promise<void> {
    inflight ??= fetchKeySet().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  async function fetchKeySet(): Promise<void> {
    lastAttemptAt = clock.now();
    let jwksUri: string | undefined;
    try {
      jwksUri = await resolveJwksUri();
      const select = createLocalJWKSet(toPublicKeySet(await fetchJson(jwksUri)));
      keySet = { select, fetchedAt: clock.now() };
      lastAttemptFailed = false;
      logger.debug({ issuer: issuer.name, jwks_uri: jwksUri }, "fetched issuer JWKS");
    } catch (err) {
      lastAttemptFailed = true;
      logger.warn(
        { issuer: issuer.name, jwks_uri: jwksUri, error: describeFetchError(err) },
        keySet ? "JWKS refresh failed; still using the last good key set" : "JWKS fetch failed; no keys yet",
      );
    }
  }

  async function resolveJwksUri(): Promise<string> {
    if (issuer.jwks_uri) return issuer.jwks_uri;
    const discoveryUrl = `${issuer.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
    const discovery = await fetchJson(discoveryUrl);
    if (discovery.issuer !== issuer.issuer) {
      throw new Error("the discovery document's issuer does not equal the configured issuer");
    }
    const jwksUri = discovery.jwks_uri;
    if (typeof jwksUri !== "string" || !isAllowedUrl(jwksUri)) {
      throw new Error(
        "the discovery document's jwks_uri is missing or not https (plain http only on loopback)",
      );
    }
    return jwksUri;
  }

  async function fetchJson(url: string): Promise<Record<string, unknown>> {
    const response = await fetchImpl(url, {
      headers: { accept: "application/json" },
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      await discardBody(response);
      throw new Error(`GET ${url} answered HTTP ${response.status}`);
    }
    const body = await readBoundedText(response, MAX_DOCUMENT_BYTES, url);
    const parsed: unknown = JSON.parse(body);
    if (!isRecord(parsed)) throw new Error(`GET ${url} did not return a JSON object`);
    return parsed;
  }

  async function getKey(protectedHeader: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    let fetchedForThisCall = false;
    if (isStale() && (!lastAttemptFailed || cooldownOver())) {
      await refresh();
      fetchedForThisCall = true;
    }
    try {
      return await selectKey(protectedHeader, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || fetchedForThisCall) throw err;
      if (inflight) {
        await inflight;
      } else if (cooldownOver()) {
        logger.debug({ issuer: issuer.name }, "no cached key matches the assertion; refetching the JWKS");
        await refresh();
      } else {
        throw err;
      }
      return selectKey(protectedHeader, token);
    }
  }

  function selectKey(protectedHeader: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    if (!keySet)
      return Promise.reject(new errors.JWKSNoMatchingKey("the issuer's JWKS has not been fetched"));
    return keySet.select(protectedHeader, token);
  }

  return { getKey, refresh };
}

/** JWK members a public signing key needs; anything else (private parts, certificates, URLs) is dropped. */
const PUBLIC_JWK_MEMBERS = ["kty", "kid", "alg", "use", "crv", "x", "y", "n", "e"] as const;

/**
 * Keeps only public signing keys, reduced to their public members. SPIFFE bundles mark JWT-SVID keys
 * `use: "jwt-svid"` (treated as `sig`) and carry X.509-SVID roots (`use: "x509-svid"`, dropped). Private
 * or symmetric keys are never used.
 */
function toPublicKeySet(document: Record<string, unknown>): JSONWebKeySet {
  if (!Array.isArray(document.keys)) throw new Error("the JWKS has no keys array");
  const keys: JWK[] = [];
  for (const candidate of document.keys) {
    if (!isRecord(candidate) || typeof candidate.kty !== "string" || !SIGNING_KEY_TYPES.has(candidate.kty))
      continue;
    if ("d" in candidate || candidate.use === "x509-svid") continue;
    const jwk: JWK = {};
    for (const member of PUBLIC_JWK_MEMBERS) {
      const value = candidate[member];
      if (typeof value === "string") jwk[member] = value;
    }
    if (jwk.use === "jwt-svid") jwk.use = "sig";
    keys.push(jwk);
  }
  return { keys };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The real cause of a failed fetch: undici says only "fetch failed" and keeps the reason (an unknown CA,
 * a refused connection, a DNS failure) in `cause`, with its code.
 */
export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const causes: string[] = [err.message];
  let cause: unknown = err.cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    causes.push(code && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message);
    cause = cause.cause;
  }
  return causes.join(": ");
}
