import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { createJwksCache } from "../auth/jwks-cache.js";
import type { ReplayGuard } from "../auth/replay-guard.js";
import {
  createResourceServerAuthenticator,
  type ResourceServerAuthenticator,
  type ResourceServerClient,
  sha256,
} from "../auth/resource-server-auth.js";
import {
  type BrokerConfig,
  RESOURCE_SERVER_ISSUER,
  type ResourceServerConfig,
} from "../config/config-schema.js";
import { OAUTH_PATHS } from "../oauth/oauth-metadata.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";

/** A client secret shorter than this refuses the start: it would be guessable. */
const MIN_SECRET_LENGTH = 32;
/** Fetched resource-server keys are trusted this long; an unknown `kid` refetches at most this often. */
const JWKS_CACHE_SECONDS = 300;
const JWKS_COOLDOWN_SECONDS = 30;

/** The introspection endpoint's URL, one of the two `aud` values a client assertion may carry. */
export const introspectionUrl = (config: BrokerConfig): string =>
  `${config.server.public_url.replace(/\/$/, "")}/v1/introspect`;

/** The RFC 7009 revocation endpoint's URL, also an `aud` a client assertion may carry. */
export const revocationUrl = (config: BrokerConfig): string =>
  `${config.server.public_url.replace(/\/$/, "")}${OAUTH_PATHS.revocation}`;

/**
 * The resource servers of `resource_servers`, with their secrets read from the env now: a declared
 * `secret_env` that is unset or short stops the api role from starting.
 */
export function buildResourceServerAuthenticator(deps: {
  config: BrokerConfig;
  env: Readonly<Record<string, string | undefined>>;
  replayGuard: ReplayGuard;
  clock: Clock;
  logger: Logger;
}): ResourceServerAuthenticator {
  const { config, clock } = deps;
  const clients = config.resource_servers.map((rs) => resourceServerClient(rs, deps));
  const signerIssuer = config.providers.signer.issuer ?? config.server.public_url;
  return createResourceServerAuthenticator({
    clients,
    assertionAudiences: [...new Set([introspectionUrl(config), revocationUrl(config), signerIssuer])],
    replayGuard: deps.replayGuard,
    clock,
  });
}

function resourceServerClient(
  rs: ResourceServerConfig,
  deps: { env: Readonly<Record<string, string | undefined>>; clock: Clock; logger: Logger },
): ResourceServerClient {
  return {
    clientId: rs.client_id,
    audiences: rs.audiences,
    ...(rs.secret_env === undefined ? {} : { secretDigest: sha256(readSecret(rs, rs.secret_env, deps.env)) }),
    ...(keysOf(rs, deps) ?? {}),
  };
}

function readSecret(
  rs: ResourceServerConfig,
  envName: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const secret = env[envName];
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `resource_servers ${rs.client_id}: the env var ${envName} must hold a secret of at least ${MIN_SECRET_LENGTH} characters`,
    );
  }
  return secret;
}

function keysOf(
  rs: ResourceServerConfig,
  deps: { clock: Clock; logger: Logger },
): { keys: JWTVerifyGetKey } | undefined {
  if (rs.jwks_uri !== undefined) {
    const cache = createJwksCache({
      issuer: {
        name: `${RESOURCE_SERVER_ISSUER}:${rs.client_id}`,
        issuer: rs.jwks_uri,
        jwks_uri: rs.jwks_uri,
        jwks_cache_seconds: JWKS_CACHE_SECONDS,
        jwks_cooldown_seconds: JWKS_COOLDOWN_SECONDS,
      },
      clock: deps.clock,
      logger: deps.logger,
    });
    return { keys: (header, token) => cache.getKey(header, token) };
  }
  if (rs.jwks === undefined) return undefined;
  if (rs.jwks.keys.some((key) => "d" in key)) {
    throw new Error(`resource_servers ${rs.client_id}: jwks must hold public keys only`);
  }
  // The config schema checked the shape ({keys: [objects]}); jose checks each key when it is used.
  return { keys: createLocalJWKSet(rs.jwks as JSONWebKeySet) };
}
