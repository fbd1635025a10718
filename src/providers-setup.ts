import path from "node:path";
import type { Redis } from "ioredis";
import type { CredentialProvider, ProviderKind } from "../providers/provider.js";
import { loadKek } from "../providers/signer/kek.js";
import type { SignerProfile } from "../providers/signer/signer-config.js";
import { createSignerKeyRing } from "../providers/signer/signer-keys.js";
import { createSignerProvider, type SignerProvider } from "../providers/signer/signer-provider.js";
import type { BrokerConfig, ProfileConfig } from "./config/config-schema.js";
import type { Clock } from "./shared/clock.js";

export interface ProviderContext {
  config: BrokerConfig;
  configDir: string;
  redis: Redis;
  clock: Clock;
  env: Readonly<Record<string, string | undefined>>;
}

export interface BuiltProviders {
  signer: SignerProvider;
  all: CredentialProvider[];
}

/** Signer retention: the longest token a retired key can have signed, plus a margin for caches and skew. */
const RETENTION_MARGIN_SECONDS = 300;

function profilesOf<K extends ProviderKind>(
  config: BrokerConfig,
  kind: K,
): Record<string, Extract<ProfileConfig, { provider: K }>> {
  const selected: Record<string, Extract<ProfileConfig, { provider: K }>> = {};
  for (const [name, profile] of Object.entries(config.profiles)) {
    if (isKind(profile, kind)) selected[name] = profile;
  }
  return selected;
}

function isKind<K extends ProviderKind>(
  profile: ProfileConfig,
  kind: K,
): profile is Extract<ProfileConfig, { provider: K }> {
  return profile.provider === kind;
}

async function buildSigner(ctx: ProviderContext): Promise<SignerProvider> {
  const cfg = ctx.config.providers.signer;
  const profiles: Record<string, SignerProfile> = profilesOf(ctx.config, "signer");
  const longest = Math.max(0, ...Object.values(profiles).map((p) => p.max_ttl_seconds));
  const pemFiles = cfg.key_files?.map((file) => path.resolve(ctx.configDir, file));
  const kek = pemFiles
    ? undefined
    : loadKek({
        env: cfg.kek_env,
        file: cfg.kek_file ? path.resolve(ctx.configDir, cfg.kek_file) : undefined,
        variables: ctx.env,
      });
  const keyRing = await createSignerKeyRing({
    redis: ctx.redis,
    keyPrefix: ctx.config.redis.key_prefix,
    kek,
    algorithm: cfg.algorithm,
    now: () => ctx.clock.now(),
    retentionSeconds: longest + RETENTION_MARGIN_SECONDS,
    pemFiles,
  });
  return createSignerProvider({
    redis: ctx.redis,
    keyPrefix: ctx.config.redis.key_prefix,
    issuer: cfg.issuer ?? ctx.config.server.public_url,
    profiles,
    keyRing,
    now: () => ctx.clock.now(),
  });
}

/**
 * Builds every provider. The signer always exists (it serves JWKS and introspection); the others exist
 * when configured. The map is exhaustive over ProviderKind, so a new kind cannot be forgotten here.
 */
export async function buildProviders(ctx: ProviderContext): Promise<BuiltProviders> {
  const signer = await buildSigner(ctx);
  const others: Record<Exclude<ProviderKind, "signer">, () => Promise<CredentialProvider | null>> = {};
  const makers: (() => Promise<CredentialProvider | null>)[] = Object.values(others);
  const built = await Promise.all(makers.map((make) => make()));
  return { signer, all: [signer, ...built.filter((p): p is CredentialProvider => p !== null)] };
}
