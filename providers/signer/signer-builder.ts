import type { ProviderHost, ProviderSection } from "../provider-host.js";
import { loadKek } from "./kek.js";
import type { SignerProfile, SignerProviderConfig } from "./signer-config.js";
import { createSignerKeyRing } from "./signer-keys.js";
import { createSignerProvider, type SignerProvider } from "./signer-provider.js";

/** Signer retention: the longest token a retired key can have signed, plus a margin for caches and skew. */
const RETENTION_MARGIN_SECONDS = 300;

/** `providers.signer` and the `provider: signer` profiles, plus the issuer to use when none is configured. */
export interface SignerSection extends ProviderSection<SignerProviderConfig, SignerProfile> {
  /** `iss` when `providers.signer.issuer` is unset: the broker's `server.public_url`. */
  defaultIssuer: string;
}

/** The signer always exists: it serves JWKS and introspection even with no signer profile. */
export async function buildSignerProvider(
  section: SignerSection,
  host: ProviderHost,
): Promise<SignerProvider> {
  const { config: cfg, profiles } = section;
  const longest = Math.max(0, ...Object.values(profiles).map((p) => p.max_ttl_seconds));
  const pemFiles = cfg.key_files?.map((file) => host.resolvePath(file));
  const kek = pemFiles
    ? undefined
    : loadKek({
        env: cfg.kek_env,
        file: cfg.kek_file ? host.resolvePath(cfg.kek_file) : undefined,
        variables: host.env,
      });
  const keyRing = await createSignerKeyRing({
    redis: host.redis,
    keyPrefix: host.keyPrefix,
    kek,
    algorithm: cfg.algorithm,
    now: host.now,
    retentionSeconds: longest + RETENTION_MARGIN_SECONDS,
    pemFiles,
  });
  return createSignerProvider({
    redis: host.redis,
    keyPrefix: host.keyPrefix,
    issuer: cfg.issuer ?? section.defaultIssuer,
    profiles,
    keyRing,
    now: host.now,
  });
}
