import path from "node:path";
import { loadKek } from "../../providers/signer/kek.js";
import { createSignerKeyRing } from "../../providers/signer/signer-keys.js";
import { createSignerProvider, type SignerProvider } from "../../providers/signer/signer-provider.js";
import { type ProviderContext, profilesOf } from "./provider-context.js";

/** Signer retention: the longest token a retired key can have signed, plus a margin for caches and skew. */
const RETENTION_MARGIN_SECONDS = 300;

/** The signer always exists: it serves JWKS and introspection even with no signer profile. */
export async function buildSignerProvider(ctx: ProviderContext): Promise<SignerProvider> {
  const cfg = ctx.config.providers.signer;
  const profiles = profilesOf(ctx.config, "signer");
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
