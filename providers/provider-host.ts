import type { Cluster, Redis } from "ioredis";

/**
 * What a provider builder receives: the broker's shared infrastructure (the host) and its own part of the
 * config (the section), already parsed by the provider's own schema. Builders never see the broker's
 * config, so a provider folder depends on nothing under `src/`.
 */

/** The broker's Redis command connection, whatever its topology. Providers use it; they never close it. */
export type ProviderRedis = Redis | Cluster;

/** The few logger calls providers make (pino's Logger satisfies it). Fields are allowlisted, never secrets. */
export interface ProviderLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  /** A logger whose lines all carry `bindings` (e.g. `{ provider: "vault" }`). */
  child(bindings: Record<string, unknown>): ProviderLogger;
}

/** The broker's infrastructure every builder may use. */
export interface ProviderHost {
  redis: ProviderRedis;
  /** Prefix of every Redis key a provider writes (`redis.key_prefix`). */
  keyPrefix: string;
  /** Epoch ms: the broker's clock, controllable in tests. */
  now: () => number;
  logger: ProviderLogger;
  /** Where secrets named by the config are read (process.env in production; tests hand in their own). */
  env: Readonly<Record<string, string | undefined>>;
  /** A path written in the config file, resolved against that file's directory. */
  resolvePath(relative: string): string;
}

/** One kind's part of the config: `providers.<kind>` and the profiles served by that kind, by name. */
export interface ProviderSection<Config, Profile> {
  config: Config;
  profiles: Record<string, Profile>;
}
