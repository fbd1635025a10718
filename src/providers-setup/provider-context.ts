import type { ProviderKind } from "../../providers/provider.js";
import type { BrokerConfig, ProfileConfig } from "../config/config-schema.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { RedisClient } from "../shared/redis.js";

/** What every provider builder may use: config, Redis, clock, env (for secrets), logger. */
export interface ProviderContext {
  config: BrokerConfig;
  configDir: string;
  redis: RedisClient;
  clock: Clock;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
}

export type ProfileOf<K extends ProviderKind> = Extract<ProfileConfig, { provider: K }>;

/** The configured profiles served by one provider kind, typed by that provider's own schema. */
export function profilesOf<K extends ProviderKind>(
  config: BrokerConfig,
  kind: K,
): Record<string, ProfileOf<K>> {
  const selected: Record<string, ProfileOf<K>> = {};
  for (const [name, profile] of Object.entries(config.profiles)) {
    if (isKind(profile, kind)) selected[name] = profile;
  }
  return selected;
}

function isKind<K extends ProviderKind>(profile: ProfileConfig, kind: K): profile is ProfileOf<K> {
  return profile.provider === kind;
}
