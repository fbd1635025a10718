import path from "node:path";
import type { ProviderKind } from "../../providers/provider.js";
import type { ProviderHost } from "../../providers/provider-host.js";
import type { BrokerConfig, ProfileConfig } from "../config/config-schema.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { RedisClient } from "../shared/redis.js";

/** What building the providers takes from the composition root: config, Redis, clock, env (for secrets), logger. */
export interface ProviderContext {
  config: BrokerConfig;
  configDir: string;
  redis: RedisClient;
  clock: Clock;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
}

/** The infrastructure every provider builder gets; config paths resolve against the config file's directory. */
export function providerHost(ctx: ProviderContext): ProviderHost {
  return {
    redis: ctx.redis,
    keyPrefix: ctx.config.redis.key_prefix,
    now: () => ctx.clock.now(),
    logger: ctx.logger,
    env: ctx.env,
    resolvePath: (relative) => path.resolve(ctx.configDir, relative),
  };
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
