import { createHash } from "node:crypto";
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";
import { createDpopProofChecker, DPOP_ALGORITHMS, DpopProofError } from "./dpop-proof.js";
import type { RevocationFeed } from "./revocation-feed.js";

/**
 * The resource-server kit (`credbroker/resource-server`): Express-compatible middleware that serves RFC 9728
 * protected-resource metadata for one resource and accepts only broker access tokens made for it. The
 * request and response types are structural, so the kit imports no web framework.
 */

export interface ResourceServerOptions {
  /** This resource's identifier: the `audience` of its signer profile (RFC 8707 `resource`). */
  resource: string;
  /** The broker's issuer (`iss` of its tokens and of its RFC 8414 metadata). */
  issuer: string;
  /** Scopes this resource understands (`scopes_supported` of its metadata). */
  scopes?: readonly string[];
  /**
   * Introspection credentials (`resource_servers` in the broker's config), to learn of revocation before
   * `exp`. Without them the kit verifies locally only, and a revoked token works until it expires.
   */
  introspection?: { clientId: string; clientSecret: string };
  /**
   * A Shared Signals feed (`createRevocationFeed`): a token it reports revoked, or of a task it reports
   * closed, is refused at once (docs/signals.md).
   */
  signals?: Pick<RevocationFeed, "isRevoked">;
  /** How long an introspection answer is reused (default 10 s; never past the token's `exp`). */
  introspectionCacheSeconds?: number;
  /** Where this resource's metadata is served; default derived from `resource` (RFC 9728 §3.1). */
  metadataUrl?: string;
  /** Time source (epoch ms), for tests. */
  now?: () => number;
  fetch?: typeof fetch;
}

/** What the middleware reads of a request (an Express request fits). */
export interface KitRequest {
  method: string;
  originalUrl?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** What the middleware writes (an Express response fits). */
export interface KitResponse {
  status(code: number): KitResponse;
  setHeader(name: string, value: string): unknown;
  json(body: unknown): unknown;
  locals: Record<string, unknown>;
}

export type KitNext = (err?: unknown) => void;
export type KitMiddleware = (req: KitRequest, res: KitResponse, next: KitNext) => Promise<void>;

/** The verified token, at `res.locals.credbroker`. */
export interface VerifiedToken {
  token: string;
  claims: JWTPayload;
  scopes: string[];
  /** The task the token is bound to. */
  taskId: string;
  /** `cnf.jkt` when the token is DPoP-bound. */
  jkt?: string;
}

interface ServerMetadata {
  issuer: string;
  jwks_uri: string;
  introspection_endpoint?: string;
}

class Refusal extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly error: string,
    message: string,
    readonly scheme: "Bearer" | "DPoP" = "Bearer",
    readonly scope?: string,
  ) {
    super(message);
  }
}

const header = (req: KitRequest, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
};

export function createResourceServer(options: ResourceServerOptions) {
  const now = options.now ?? (() => Date.now());
  const doFetch = options.fetch ?? fetch;
  const resourceUrl = new URL(options.resource);
  const resourcePath = resourceUrl.pathname.replace(/\/+$/, "");
  const metadataPath = `/.well-known/oauth-protected-resource${resourcePath}`;
  const metadataUrl = options.metadataUrl ?? `${resourceUrl.origin}${metadataPath}`;
  const checkProof = createDpopProofChecker(now);
  const introspected = new Map<string, { active: boolean; until: number }>();
  let server: Promise<ServerMetadata> | undefined;
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  /** The broker's RFC 8414 metadata, fetched once (and again after a failure). */
  function serverMetadata(): Promise<ServerMetadata> {
    server ??= (async () => {
      const url = `${options.issuer.replace(/\/+$/, "")}/.well-known/oauth-authorization-server`;
      const res = await doFetch(url);
      const body = serverMetadataOf(res.ok ? await res.json() : null);
      if (!body || body.issuer !== options.issuer) throw new Error(`no broker metadata at ${url}`);
      jwks = createRemoteJWKSet(new URL(body.jwks_uri));
      return body;
    })().catch((err: unknown) => {
      server = undefined;
      throw err;
    });
    return server;
  }

  /** RFC 9728 §2: what an MCP client reads to find the broker. */
  const protectedResourceMetadata = () => ({
    resource: options.resource,
    authorization_servers: [options.issuer],
    bearer_methods_supported: ["header"],
    scopes_supported: [...(options.scopes ?? [])],
    dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
  });

  /** Serves the metadata at `/.well-known/oauth-protected-resource[<resource path>]`; passes anything else. */
  const metadata: KitMiddleware = async (req, res, next) => {
    const path = (req.originalUrl ?? req.url ?? "").split("?")[0];
    if (req.method !== "GET" || path !== metadataPath) return next();
    res.setHeader("Cache-Control", "public, max-age=300");
    res.json(protectedResourceMetadata());
  };

  async function verify(token: string): Promise<JWTPayload> {
    await serverMetadata();
    if (!jwks) throw new Refusal(401, "invalid_token", "The broker's keys are unavailable.");
    try {
      const { payload } = await jwtVerify(token, jwks, {
        typ: "at+jwt",
        issuer: options.issuer,
        audience: options.resource,
        requiredClaims: ["exp", "sub", "jti"],
        currentDate: new Date(now()),
      });
      return payload;
    } catch {
      throw new Refusal(401, "invalid_token", "The access token is not valid for this resource.");
    }
  }

  /** Whether the broker still holds the token active, cached for a few seconds. */
  async function stillActive(token: string, exp: number): Promise<boolean> {
    const credentials = options.introspection;
    if (!credentials) return true;
    const key = createHash("sha256").update(token).digest("base64url");
    const cached = introspected.get(key);
    if (cached && cached.until > now()) return cached.active;
    const endpoint = (await serverMetadata()).introspection_endpoint;
    if (!endpoint) throw new Error("the broker publishes no introspection endpoint");
    const basic = Buffer.from(
      `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`,
    ).toString("base64");
    const res = await doFetch(endpoint, {
      method: "POST",
      headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
    });
    if (!res.ok) throw new Error(`introspection answered ${res.status}`);
    const answer: unknown = await res.json();
    const active =
      typeof answer === "object" && answer !== null && "active" in answer && answer.active === true;
    const until = Math.min(now() + (options.introspectionCacheSeconds ?? 10) * 1000, exp * 1000);
    if (introspected.size > 10_000) introspected.clear();
    introspected.set(key, { active, until });
    return active;
  }

  async function authenticate(req: KitRequest, required: readonly string[]): Promise<VerifiedToken> {
    const authorization = header(req, "authorization") ?? "";
    const match = /^(Bearer|DPoP) ([A-Za-z0-9._~+/=-]+)$/i.exec(authorization);
    if (!match?.[2]) throw new Refusal(401, "", "An access token from the broker is required.");
    const scheme = match[1]?.toLowerCase() === "dpop" ? "DPoP" : "Bearer";
    const token = match[2];
    const claims = await verify(token);
    const jkt = boundKey(claims);
    if (jkt !== undefined) await requireProof(req, scheme, token, jkt);
    else if (scheme === "DPoP") throw new Refusal(401, "invalid_token", "The token is not DPoP-bound.");
    if (options.signals?.isRevoked(claims) || !(await stillActive(token, claims.exp ?? 0))) {
      throw new Refusal(401, "invalid_token", "The access token was revoked.", scheme);
    }
    const scopes = typeof claims.scope === "string" ? claims.scope.split(" ").filter(Boolean) : [];
    const missing = required.filter((scope) => !scopes.includes(scope));
    if (missing.length > 0) {
      throw new Refusal(
        403,
        "insufficient_scope",
        "The token lacks a required scope.",
        scheme,
        required.join(" "),
      );
    }
    return { token, claims, scopes, taskId: String(claims.task_id ?? ""), ...(jkt ? { jkt } : {}) };
  }

  async function requireProof(req: KitRequest, scheme: string, token: string, jkt: string): Promise<void> {
    const proof = header(req, "dpop");
    if (scheme !== "DPoP" || proof === undefined) {
      throw new Refusal(401, "invalid_token", "The token is DPoP-bound: send it with a DPoP proof.", "DPoP");
    }
    const path = (req.originalUrl ?? req.url ?? "/").split("?")[0] ?? "/";
    try {
      await checkProof(proof, { method: req.method, url: `${resourceUrl.origin}${path}`, token, jkt });
    } catch (err) {
      if (err instanceof DpopProofError) throw new Refusal(401, "invalid_dpop_proof", err.message, "DPoP");
      throw err;
    }
  }

  /** RFC 6750 §3 and RFC 9728 §5.1; `scope` tells an MCP client what to ask for. */
  function challenge(refusal: Refusal, required: readonly string[]): string {
    const parts = [`resource_metadata="${metadataUrl}"`];
    if (refusal.error) parts.push(`error="${refusal.error}"`, `error_description="${refusal.message}"`);
    const scope = refusal.scope ?? required.join(" ");
    if (scope) parts.push(`scope="${scope}"`);
    if (refusal.scheme === "DPoP") parts.push(`algs="${DPOP_ALGORITHMS.join(" ")}"`);
    return `${refusal.scheme} ${parts.join(", ")}`;
  }

  /**
   * Accepts a request whose token the broker issued for this resource, unrevoked, with every scope in
   * `scopes`; the verified token goes to `res.locals.credbroker`. Otherwise 401 with `WWW-Authenticate:
   * Bearer resource_metadata="…"` (MCP authorization), or 403 `insufficient_scope`.
   */
  function requireToken(requirement: { scopes?: readonly string[] } = {}): KitMiddleware {
    return async (req, res, next) => {
      try {
        res.locals.credbroker = await authenticate(req, requirement.scopes ?? []);
        next();
      } catch (err) {
        if (!(err instanceof Refusal)) return next(err);
        res.setHeader("WWW-Authenticate", challenge(err, requirement.scopes ?? []));
        // RFC 6750 §3.1: a request without a token gets no error code.
        res.status(err.status).json(err.error ? { error: err.error, error_description: err.message } : {});
      }
    };
  }

  return { metadata, requireToken, metadataUrl, protectedResourceMetadata };
}

export type ResourceServer = ReturnType<typeof createResourceServer>;

/** The token `requireToken` verified for this response (undefined before it ran). */
export function verifiedToken(res: Pick<KitResponse, "locals">): VerifiedToken | undefined {
  const value = res.locals.credbroker;
  return isVerifiedToken(value) ? value : undefined;
}

function isVerifiedToken(value: unknown): value is VerifiedToken {
  return (
    typeof value === "object" && value !== null && "token" in value && "claims" in value && "taskId" in value
  );
}

/** The fields of RFC 8414 metadata the kit uses, when the document has them. */
function serverMetadataOf(body: unknown): ServerMetadata | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const issuer = "issuer" in body ? body.issuer : undefined;
  const jwksUri = "jwks_uri" in body ? body.jwks_uri : undefined;
  const introspection = "introspection_endpoint" in body ? body.introspection_endpoint : undefined;
  if (typeof issuer !== "string" || typeof jwksUri !== "string") return undefined;
  return {
    issuer,
    jwks_uri: jwksUri,
    ...(typeof introspection === "string" ? { introspection_endpoint: introspection } : {}),
  };
}

function boundKey(claims: JWTPayload): string | undefined {
  const cnf = claims.cnf;
  if (typeof cnf !== "object" || cnf === null || !("jkt" in cnf)) return undefined;
  return typeof cnf.jkt === "string" ? cnf.jkt : undefined;
}
