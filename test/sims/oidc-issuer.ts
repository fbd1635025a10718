import express from "express";
import { SignJWT, UnsecuredJWT } from "jose";
import type { IssuerConfig } from "../../src/config/config-schema.js";
import {
  createOidcIssuer,
  type IssuerSigningAlgorithm,
  type MintClaims,
  type MintOptions,
  type OidcIssuer,
} from "../../src/dev/oidc-issuer.js";
import type { Clock } from "../../src/shared/clock.js";

export interface OidcIssuerSimOptions {
  /** Clock for `iat`/`exp` of minted tokens (share it with the verifier under test). */
  clock?: Clock;
  algorithm?: IssuerSigningAlgorithm;
}

/** How an "unreachable" issuer fails: the connection is reset, or it answers 503. */
export type UnreachableMode = "reset" | "503";

/** The dev OIDC issuer on its own HTTP server (127.0.0.1, random port), plus controls for tests. */
export interface OidcIssuerSim {
  /** The issuer URL (`iss`), e.g. `http://127.0.0.1:41234`. */
  issuer: string;
  jwksUri: string;
  /** The wrapped dev issuer. */
  oidc: OidcIssuer;
  mint(claims: MintClaims, options?: MintOptions): Promise<string>;
  rotate(alg?: IssuerSigningAlgorithm): Promise<string>;
  removeKey(kid: string): void;
  currentKid(): string;
  /**
   * A broker issuer entry trusting this sim: name `ci`, kind `oidc`, discovery (no `jwks_uri`) and the
   * config schema's defaults, with `overrides` applied.
   */
  issuerConfig(overrides?: Partial<IssuerConfig>): IssuerConfig;
  /** While on, discovery and JWKS requests fail (socket destroyed by default, or HTTP 503). */
  setUnreachable(on: boolean, mode?: UnreachableMode): void;
  /** Members merged over the served discovery document (`null` restores it). */
  setDiscoveryOverrides(overrides: Record<string, unknown> | null): void;
  /** Number of JWKS documents served so far. */
  fetchCount(): number;
  /** A forged HS256 token for this issuer signed with `secret` (e.g. the public key, for key confusion). */
  mintHs256(
    secret: string | Uint8Array,
    claims: MintClaims,
    header?: Record<string, unknown>,
  ): Promise<string>;
  /** A forged unsecured (`alg: none`) token for this issuer. */
  mintNone(claims: MintClaims): string;
  close(): Promise<void>;
}

const KEY_ENDPOINTS = new Set(["/.well-known/openid-configuration", "/jwks.json"]);

export async function startOidcIssuerSim(options: OidcIssuerSimOptions = {}): Promise<OidcIssuerSim> {
  let unreachable: UnreachableMode | undefined;
  let discoveryOverrides: Record<string, unknown> | null = null;
  let jwksFetches = 0;
  let oidc: OidcIssuer | undefined;

  const app = express();
  app.use((req, res, next) => {
    if (!KEY_ENDPOINTS.has(req.path)) return next();
    if (unreachable === "reset") return void req.socket.destroy();
    if (unreachable === "503") return void res.status(503).json({ error: "unavailable" });
    if (req.path === "/jwks.json") jwksFetches += 1;
    if (req.path !== "/jwks.json" && discoveryOverrides && oidc) {
      return void res.json({ ...oidc.discoveryDocument(), ...discoveryOverrides });
    }
    next();
  });

  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the OIDC issuer sim is not on TCP");
  const issuer = `http://127.0.0.1:${address.port}`;
  const clock = options.clock ?? { now: () => Date.now() };
  const created = await createOidcIssuer({ issuerUrl: issuer, clock, algorithm: options.algorithm });
  oidc = created;
  app.use(created.router());

  const nowSeconds = (): number => Math.floor(clock.now() / 1000);

  return {
    issuer,
    jwksUri: created.jwksUri,
    oidc: created,
    mint: (claims, mintOptions) => created.mint(claims, mintOptions),
    rotate: (alg) => created.rotate(alg),
    removeKey: (kid) => created.removeKey(kid),
    currentKid: () => created.currentKid(),
    issuerConfig: (overrides = {}) => ({
      name: "ci",
      kind: "oidc",
      issuer,
      algorithms: ["RS256", "ES256"],
      max_token_age_seconds: 3600,
      replay_guard: false,
      jwks_cache_seconds: 300,
      jwks_cooldown_seconds: 30,
      ...overrides,
    }),
    setUnreachable(on, mode = "reset") {
      unreachable = on ? mode : undefined;
    },
    setDiscoveryOverrides(overrides) {
      discoveryOverrides = overrides;
    },
    fetchCount: () => jwksFetches,
    mintHs256(secret, claims, header = {}) {
      const key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
      return new SignJWT({ iss: issuer, iat: nowSeconds(), exp: nowSeconds() + 600, ...claims })
        .setProtectedHeader({ typ: "JWT", kid: created.currentKid(), ...header, alg: "HS256" })
        .sign(key);
    },
    mintNone(claims) {
      return new UnsecuredJWT({
        iss: issuer,
        iat: nowSeconds(),
        exp: nowSeconds() + 600,
        ...claims,
      }).encode();
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
