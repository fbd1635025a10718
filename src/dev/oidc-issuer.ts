import express, { type Router } from "express";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  SignJWT,
} from "jose";
import { type Clock, systemClock } from "../shared/clock.js";
import { type DevOidcClient, type DevUser, devLoginRoutes } from "./oidc-login.js";

/** Signing algorithms the dev issuer can hold keys for. */
export type IssuerSigningAlgorithm = "ES256" | "RS256" | "EdDSA";

/** Claims of a minted token. `iss`, `iat` and `exp` are filled in unless given here. */
export interface MintClaims {
  sub: string;
  aud?: string | string[];
  [claim: string]: unknown;
}

export interface MintOptions {
  /** Sign with the newest key of this algorithm (created and published if the issuer has none). */
  alg?: IssuerSigningAlgorithm;
  /** Sign with this published key instead of the current one. */
  kid?: string;
  /** `exp` = `iat` + this. Default 600. */
  expiresInSeconds?: number;
  /** `iat` in epoch seconds. Default: now by the issuer's clock. */
  iat?: number;
  /** Extra or overriding protected-header members (tests use it for `crit`, `jku`, a foreign `kid`, …). */
  header?: Record<string, unknown>;
}

export interface OidcIssuerOptions {
  /** The `iss` of minted tokens and the URL the caller mounts {@link OidcIssuer.router} at. */
  issuerUrl: string;
  /** Private JWKs from {@link OidcIssuer.exportKeys} (each with `kid` and `alg`); the last one is current. */
  keys?: JWK[];
  /** Algorithm of the first key when none are given. Default ES256. */
  algorithm?: IssuerSigningAlgorithm;
  clock?: Clock;
  /** Adds the authorization code + PKCE flow (a sign-in page and a token endpoint) for these clients. */
  login?: { clients: DevOidcClient[]; users: DevUser[] };
}

/**
 * A small, real OIDC issuer for dev mode and tests: publishes discovery and a JWKS, mints workload tokens,
 * rotates keys with overlap (old keys stay published until removed).
 */
export interface OidcIssuer {
  readonly issuerUrl: string;
  readonly jwksUri: string;
  /** Serves `/.well-known/openid-configuration` and `/jwks.json`; mount it at `issuerUrl`'s path. */
  router(): Router;
  discoveryDocument(): Record<string, unknown>;
  /** Published public keys, current and previous. */
  jwks(): { keys: JWK[] };
  mint(claims: MintClaims, options?: MintOptions): Promise<string>;
  /** Adds a new key, makes it current and keeps the old ones published. Returns the new `kid`. */
  rotate(alg?: IssuerSigningAlgorithm): Promise<string>;
  /** Stops publishing (and signing with) a key. Removing the current key makes the newest remaining one current. */
  removeKey(kid: string): void;
  /** Private JWKs, oldest first and current last, for persisting (dev mode keeps them in a file). */
  exportKeys(): JWK[];
  currentKid(): string;
}

interface SigningKey {
  kid: string;
  alg: IssuerSigningAlgorithm;
  privateKey: CryptoKey;
  privateJwk: JWK;
  publicJwk: JWK;
}

const SIGNING_ALGORITHMS: readonly IssuerSigningAlgorithm[] = ["ES256", "RS256", "EdDSA"];
const PUBLIC_MEMBERS = ["kty", "crv", "x", "y", "n", "e"] as const;
const DEFAULT_EXPIRES_IN_SECONDS = 600;

export async function createOidcIssuer(options: OidcIssuerOptions): Promise<OidcIssuer> {
  const issuerUrl = options.issuerUrl;
  const jwksUri = `${issuerUrl.replace(/\/$/, "")}/jwks.json`;
  const clock = options.clock ?? systemClock;
  const keys: SigningKey[] = [];
  for (const jwk of options.keys ?? []) keys.push(await loadKey(jwk));
  if (keys.length === 0) keys.push(await generateKey(options.algorithm ?? "ES256"));
  let current: SigningKey | undefined = keys.at(-1);

  function requireKey(kid: string | undefined): SigningKey {
    const key = kid === undefined ? current : keys.find((candidate) => candidate.kid === kid);
    if (!key)
      throw new Error(kid === undefined ? "The issuer has no signing key; call rotate()." : `No key ${kid}.`);
    return key;
  }

  async function keyFor(mintOptions: MintOptions): Promise<SigningKey> {
    if (mintOptions.kid !== undefined || mintOptions.alg === undefined) return requireKey(mintOptions.kid);
    if (current?.alg === mintOptions.alg) return current;
    const existing = keys.findLast((candidate) => candidate.alg === mintOptions.alg);
    if (existing) return existing;
    const created = await generateKey(mintOptions.alg);
    keys.push(created);
    return created;
  }

  const base = issuerUrl.replace(/\/$/, "");
  const loginMetadata = options.login
    ? {
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        response_types_supported: ["code", "id_token"],
        grant_types_supported: ["authorization_code"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        scopes_supported: ["openid", "profile", "email"],
      }
    : {};
  const discoveryDocument = (): Record<string, unknown> => ({
    issuer: issuerUrl,
    jwks_uri: jwksUri,
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [...new Set(keys.map((key) => key.alg))],
    ...loginMetadata,
  });
  const jwks = (): { keys: JWK[] } => ({ keys: keys.map((key) => ({ ...key.publicJwk })) });

  async function mint(claims: MintClaims, mintOptions: MintOptions = {}): Promise<string> {
    const key = await keyFor(mintOptions);
    const iat = mintOptions.iat ?? Math.floor(clock.now() / 1000);
    const exp = iat + (mintOptions.expiresInSeconds ?? DEFAULT_EXPIRES_IN_SECONDS);
    const header: JWTHeaderParameters = { typ: "JWT", kid: key.kid, ...mintOptions.header, alg: key.alg };
    const crit = Array.isArray(header.crit)
      ? Object.fromEntries(header.crit.map((name) => [name, true]))
      : undefined;
    return new SignJWT({ iss: issuerUrl, iat, exp, ...claims })
      .setProtectedHeader(header)
      .sign(key.privateKey, crit ? { crit } : undefined);
  }

  return {
    issuerUrl,
    jwksUri,
    discoveryDocument,
    jwks,
    router() {
      const router = express.Router();
      router.get("/.well-known/openid-configuration", (_req, res) => {
        res.set("cache-control", "no-store").json(discoveryDocument());
      });
      router.get("/jwks.json", (_req, res) => {
        res.set("cache-control", "no-store").json(jwks());
      });
      if (options.login) {
        router.use(
          devLoginRoutes(issuerUrl, {
            ...options.login,
            mintIdToken: (claims) => mint(claims, { expiresInSeconds: 300 }),
            now: () => clock.now(),
          }),
        );
      }
      return router;
    },
    mint,
    async rotate(alg) {
      const key = await generateKey(alg ?? current?.alg ?? "ES256");
      keys.push(key);
      current = key;
      return key.kid;
    },
    removeKey(kid) {
      const index = keys.findIndex((key) => key.kid === kid);
      if (index === -1) return;
      keys.splice(index, 1);
      if (current?.kid === kid) current = keys.at(-1);
    },
    exportKeys: () =>
      [...keys.filter((key) => key !== current), ...(current ? [current] : [])].map((key) => ({
        ...key.privateJwk,
      })),
    currentKid: () => requireKey(undefined).kid,
  };
}

async function generateKey(alg: IssuerSigningAlgorithm): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  return toSigningKey(alg, privateKey, privateJwk);
}

async function loadKey(jwk: JWK): Promise<SigningKey> {
  const alg = SIGNING_ALGORITHMS.find((candidate) => candidate === jwk.alg);
  if (!alg || jwk.d === undefined)
    throw new Error("Persisted issuer keys must be private JWKs with alg ES256, RS256 or EdDSA.");
  const privateKey = await importJWK(jwk, alg, { extractable: true });
  if (privateKey instanceof Uint8Array) throw new Error("Persisted issuer keys must be asymmetric.");
  return toSigningKey(alg, privateKey, jwk);
}

async function toSigningKey(
  alg: IssuerSigningAlgorithm,
  privateKey: CryptoKey,
  privateJwk: JWK,
): Promise<SigningKey> {
  const publicJwk: JWK = {};
  for (const member of PUBLIC_MEMBERS) {
    const value = privateJwk[member];
    if (value !== undefined) publicJwk[member] = value;
  }
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  return {
    kid,
    alg,
    privateKey,
    privateJwk: { ...privateJwk, kid, alg },
    publicJwk: { ...publicJwk, kid, alg, use: "sig" },
  };
}
