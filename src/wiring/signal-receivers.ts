import type { JWTVerifyGetKey } from "jose";
import { createJwksCache } from "../auth/jwks-cache.js";
import { type BrokerConfig, isAllowedUrl, type SignalReceiverConfig } from "../config/config-schema.js";
import { readBoundedText } from "../shared/bounded-body.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Transmitter } from "../signals/set-intake.js";

const JWKS_CACHE_SECONDS = 300;
const JWKS_COOLDOWN_SECONDS = 30;
const METADATA_MAX_BYTES = 64 * 1024;

/** The IdP transmitters of `signals.receivers`, each with a key resolver over its JWKS. */
export function buildTransmitters(deps: {
  config: BrokerConfig;
  clock: Clock;
  logger: Logger;
}): Transmitter[] {
  return deps.config.signals.receivers.map((receiver) => ({
    name: receiver.name,
    issuer: receiver.issuer,
    audience: receiver.audience,
    keys: keysOf(receiver, deps),
  }));
}

function cacheFor(receiver: SignalReceiverConfig, jwksUri: string, deps: { clock: Clock; logger: Logger }) {
  return createJwksCache({
    issuer: {
      name: `ssf:${receiver.name}`,
      issuer: receiver.issuer,
      jwks_uri: jwksUri,
      jwks_cache_seconds: JWKS_CACHE_SECONDS,
      jwks_cooldown_seconds: JWKS_COOLDOWN_SECONDS,
    },
    clock: deps.clock,
    logger: deps.logger,
  });
}

/** `jwks_uri` directly, or the one named by the SSF metadata at `configuration_url` (read once it works). */
function keysOf(receiver: SignalReceiverConfig, deps: { clock: Clock; logger: Logger }): JWTVerifyGetKey {
  if (receiver.jwks_uri !== undefined) {
    const cache = cacheFor(receiver, receiver.jwks_uri, deps);
    return (header, token) => cache.getKey(header, token);
  }
  const configurationUrl = receiver.configuration_url ?? "";
  let pending: Promise<ReturnType<typeof cacheFor>> | undefined;
  const resolve = async () => {
    const res = await fetch(configurationUrl, { signal: AbortSignal.timeout(3_000), redirect: "error" });
    const text = await readBoundedText(res, METADATA_MAX_BYTES, configurationUrl);
    if (!res.ok) throw new Error(`${configurationUrl} answered ${res.status}`);
    const jwksUri: unknown = (JSON.parse(text) as Record<string, unknown>).jwks_uri;
    if (typeof jwksUri !== "string" || !isAllowedUrl(jwksUri)) {
      throw new Error(`${configurationUrl} names no acceptable jwks_uri`);
    }
    return cacheFor(receiver, jwksUri, deps);
  };
  return async (header, token) => {
    pending ??= resolve().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return (await pending).getKey(header, token);
  };
}
