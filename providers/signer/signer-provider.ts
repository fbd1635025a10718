import type { Redis } from "ioredis";
import { decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { CredentialProvider, IssuedCredential, IssueRequest, RevokeRequest } from "../provider.js";
import { PermanentProviderError, TransientProviderError } from "../provider-errors.js";
import { createDocumentSigner, type DocumentSigner } from "./document-signer.js";
import type { SignerProfile } from "./signer-config.js";
import { type PublicSignerJwk, type SignerKeyRing, signerRedisKeys } from "./signer-keys.js";

/**
 * The built-in signer: issues RFC 9068 JWT access tokens bound to a task, and makes them stop working
 * through a jti deny-list that introspection (RFC 7662) checks. Resource servers that verify tokens
 * locally against the JWKS only see revocation once the token expires; that is why signer profiles keep
 * short `max_ttl_seconds`.
 */

/** A deny-list entry outlives the token by this margin, covering verifiers' clock skew. */
const DENY_MARGIN_MS = 60_000;
/** Tolerance for `nbf`/`iat` set by another replica's clock. `exp` gets none: a token past exp is inactive. */
const NBF_SKEW_SECONDS = 60;

/** What the broker stores for a signer credential: enough to deny-list it until it expires. */
const signerHandleSchema = z.object({
  jti: z.string().min(1),
  kid: z.string().min(1),
  /** Token `exp`, epoch seconds. */
  exp: z.number().int(),
});
export type SignerHandle = z.infer<typeof signerHandleSchema>;

/** RFC 8693 `act`: the most recent prior actor on top, older ones nested inside. */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

/** RFC 7662 introspection answer. */
export type IntrospectionResponse =
  | { active: false }
  | ({ active: true; token_type: "Bearer" | "DPoP" } & JWTPayload);

export interface SignerProviderDeps {
  redis: Pick<Redis, "set" | "exists">;
  keyPrefix: string;
  /** `iss` of issued tokens, checked again at introspection. */
  issuer: string;
  profiles: Record<string, SignerProfile>;
  keyRing: SignerKeyRing;
  /** Epoch ms. */
  now: () => number;
}

/** Signs and checks broker JWTs that are not credentials (task tokens), each kind under its own `typ`. */
export interface BrokerJwtSigner {
  /** `iss` of every token the signer issues. */
  readonly issuer: string;
  /** Signs `claims` (with `iss` set to the issuer) under the current key, with header `typ`. */
  signJwt(claims: JWTPayload, typ: string): Promise<string>;
  /**
   * The payload of a token this signer issued with header `typ`, inside its validity window; undefined
   * for anything else. Throws TransientProviderError when the keys cannot be read.
   */
  verifyJwt(token: string, typ: string): Promise<JWTPayload | undefined>;
}

export interface SignerProvider extends CredentialProvider, BrokerJwtSigner {
  /** The JWKS served at `/.well-known/jwks.json`. */
  jwks(): Promise<{ keys: PublicSignerJwk[] }>;
  /** Never throws for a bad token (`{ active: false }`); throws TransientProviderError if Redis fails. */
  introspect(token: string): Promise<IntrospectionResponse>;
  rotateKeys(): Promise<{ kid: string; previous_kid: string }>;
  /** Signs non-token documents (audit checkpoints) with the current key. */
  readonly documents: DocumentSigner;
}

/** Builds the nested `act` claim from a chain given outermost first; undefined for an empty chain. */
export function actorClaim(actChain: readonly string[]): ActorClaim | undefined {
  return actChain.reduce<ActorClaim | undefined>(
    (older, sub) => (older ? { sub, act: older } : { sub }),
    undefined,
  );
}

/** The signer provider over a loaded key ring; `close` closes the ring, never the shared Redis. */
export function createSignerProvider(deps: SignerProviderDeps): SignerProvider {
  const { redis, issuer, keyRing, now } = deps;
  const keys = signerRedisKeys(deps.keyPrefix);

  function profileOf(name: string): SignerProfile {
    const profile = Object.hasOwn(deps.profiles, name) ? deps.profiles[name] : undefined;
    if (profile === undefined) throw new PermanentProviderError(`unknown signer profile ${name}`);
    return profile;
  }

  async function issue(request: IssueRequest): Promise<IssuedCredential> {
    const profile = profileOf(request.profile);
    const iat = Math.floor(now() / 1000);
    const ttl = Math.min(request.ttlSeconds, profile.max_ttl_seconds);
    const exp = Math.min(iat + ttl, Math.floor(request.taskDeadline / 1000));
    if (exp <= iat) throw new PermanentProviderError("the task deadline leaves no time for a token");
    const signing = await keyRing.current().catch((err: unknown) => {
      throw new TransientProviderError("signing key unavailable", { cause: err });
    });
    const act = actorClaim(request.actChain);
    const token = await new SignJWT({
      iss: issuer,
      sub: request.agent,
      aud: profile.audience,
      iat,
      nbf: iat,
      exp,
      jti: request.credentialId,
      client_id: request.agent,
      ...(request.scopes.length > 0 ? { scope: request.scopes.join(" ") } : {}),
      task_id: request.taskId,
      initiator: request.initiator.subject,
      ...(act === undefined ? {} : { act }),
      ...(request.confirmation ? { cnf: { jkt: request.confirmation.jkt } } : {}),
    })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: "at+jwt" })
      .sign(signing.privateKey);
    return {
      handle: encodeHandle({ jti: request.credentialId, kid: signing.kid, exp }),
      expiresAt: exp * 1000,
      downstreamAccount: request.agent,
      secret: { token, token_type: request.confirmation ? "DPoP" : "Bearer" },
      notes: [],
    };
  }

  /**
   * Deny-lists the jti until a minute past the token's exp. Without a handle (the broker stopped before
   * recording it) the jti is the credential id and `expiresAt`, an upper bound, stands in for exp.
   */
  async function revoke(request: RevokeRequest): Promise<void> {
    const { jti, expiresAtMs } =
      request.handle === null
        ? { jti: request.credentialId, expiresAtMs: request.expiresAt }
        : fromHandle(parseHandle(request.handle, request.credentialId));
    const at = now();
    if (at >= expiresAtMs) return;
    try {
      await redis.set(keys.deny(jti), String(at), "PX", expiresAtMs + DENY_MARGIN_MS - at);
    } catch (err) {
      // A Redis error reply starts with its error code; NOPERM (an ACL forbids the write) will not heal by retrying.
      if (err instanceof Error && err.message.startsWith("NOPERM")) {
        throw new PermanentProviderError("the broker's Redis user may not write the signer deny-list", {
          cause: err,
        });
      }
      throw new TransientProviderError("could not write the signer deny-list", { cause: err });
    }
  }

  async function signJwt(claims: JWTPayload, typ: string): Promise<string> {
    const signing = await keyRing.current().catch((err: unknown) => {
      throw new TransientProviderError("signing key unavailable", { cause: err });
    });
    return new SignJWT({ ...claims, iss: issuer })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ })
      .sign(signing.privateKey);
  }

  async function introspect(token: string): Promise<IntrospectionResponse> {
    const payload = await verifiedPayload(token, "at+jwt");
    if (payload === undefined || typeof payload.jti !== "string") return { active: false };
    let denied: number;
    try {
      denied = await redis.exists(keys.deny(payload.jti));
    } catch (err) {
      throw new TransientProviderError("could not read the signer deny-list", { cause: err });
    }
    if (denied > 0) return { active: false };
    return { ...payload, active: true, token_type: isBound(payload) ? "DPoP" : "Bearer" };
  }

  /** The payload of a token this signer issued and that is inside its validity window, else undefined. */
  async function verifiedPayload(token: string, typ: string): Promise<JWTPayload | undefined> {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return undefined;
    }
    if (typeof kid !== "string") return undefined;
    const key = await keyRing.verificationKey(kid).catch((err: unknown) => {
      throw new TransientProviderError("signer keys unavailable", { cause: err });
    });
    if (key === undefined) return undefined;
    const at = now();
    try {
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [key.alg],
        typ,
        issuer,
        clockTolerance: NBF_SKEW_SECONDS,
        currentDate: new Date(at),
        requiredClaims: ["exp", "jti", "sub"],
      });
      return typeof payload.exp === "number" && payload.exp * 1000 > at ? payload : undefined;
    } catch {
      return undefined;
    }
  }

  return {
    kind: "signer",
    semantics: "deny-list",
    hasProfile: (name) => Object.hasOwn(deps.profiles, name),
    ttlBounds: (name) => ({ min: 1, max: profileOf(name).max_ttl_seconds }),
    allowedScopes: (name) => profileOf(name).scopes,
    issue,
    revoke,
    introspect,
    issuer,
    signJwt,
    verifyJwt: verifiedPayload,
    jwks: () => keyRing.publicJwks(),
    rotateKeys: () => keyRing.rotate(),
    documents: createDocumentSigner(keyRing),
    close: () => keyRing.close(),
  };
}

/** A token with `cnf.jkt` is sender-constrained (RFC 9449 §6). */
function isBound(payload: JWTPayload): boolean {
  const cnf = payload.cnf;
  return typeof cnf === "object" && cnf !== null && "jkt" in cnf && typeof cnf.jkt === "string";
}

const fromHandle = (handle: SignerHandle) => ({ jti: handle.jti, expiresAtMs: handle.exp * 1000 });

/**
 * `<exp>.<kid>`: short enough (≤ 64 bytes) to keep the credential's Redis hash in its compact encoding; the
 * jti is the credential id, which the broker always passes.
 */
function encodeHandle(handle: SignerHandle): string {
  return `${handle.exp}.${handle.kid}`;
}

/** Reads `<exp>.<kid>`, or the JSON `{jti, kid, exp}` of earlier versions. */
function parseHandle(handle: string, credentialId: string): SignerHandle {
  if (handle.startsWith("{")) return parseLegacyHandle(handle);
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{1,128})$/.exec(handle);
  if (!match) throw new PermanentProviderError("signer handle is malformed");
  return { jti: credentialId, exp: Number(match[1]), kid: match[2] ?? "" };
}

function parseLegacyHandle(handle: string): SignerHandle {
  let json: unknown;
  try {
    json = JSON.parse(handle);
  } catch (err) {
    throw new PermanentProviderError("signer handle is not JSON", { cause: err });
  }
  const parsed = signerHandleSchema.safeParse(json);
  if (!parsed.success)
    throw new PermanentProviderError("signer handle is malformed", { cause: parsed.error });
  return parsed.data;
}
