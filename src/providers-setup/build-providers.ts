import { type CredentialProvider, PROVIDER_KINDS, type ProviderKind } from "../../providers/provider.js";
import type { ProviderHost, ProviderSection } from "../../providers/provider-host.js";
import { buildSignerProvider } from "../../providers/signer/signer-builder.js";
import type { SignerProvider } from "../../providers/signer/signer-provider.js";
import { buildStsProvider } from "../../providers/sts/sts-builder.js";
import { buildVaultProvider } from "../../providers/vault/vault-builder.js";
import type { BrokerConfig } from "../config/config-schema.js";
import { type ProfileOf, type ProviderContext, profilesOf, providerHost } from "./provider-context.js";

export interface BuiltProviders {
  signer: SignerProvider;
  all: CredentialProvider[];
}

/** The kinds built only when `providers.<kind>` is configured; the signer always exists. */
type OptionalKind = Exclude<ProviderKind, "signer">;

type SectionOf<K extends OptionalKind> = ProviderSection<
  NonNullable<BrokerConfig["providers"][K]>,
  ProfileOf<K>
>;

/** Exhaustive over ProviderKind, so adding a kind without a builder does not compile. */
const OPTIONAL_BUILDERS: {
  [K in OptionalKind]: (section: SectionOf<K>, host: ProviderHost) => Promise<CredentialProvider>;
} = {
  vault: buildVaultProvider,
  sts: buildStsProvider,
};

/** Builds every configured provider, each from its own config section and profiles. */
export async function buildProviders(ctx: ProviderContext): Promise<BuiltProviders> {
  const { config } = ctx;
  const host = providerHost(ctx);
  const signer = await buildSignerProvider(
    {
      config: config.providers.signer,
      profiles: profilesOf(config, "signer"),
      defaultIssuer: config.server.public_url,
    },
    host,
  );
  const optional = PROVIDER_KINDS.filter((kind): kind is OptionalKind => kind !== "signer");
  const built = await Promise.all(optional.map((kind) => buildIfConfigured(kind, config, host)));
  return { signer, all: [signer, ...built.filter((p): p is CredentialProvider => p !== null)] };
}

/** A kind's provider when `providers.<kind>` is configured; its profiles without that section are refused. */
async function buildIfConfigured<K extends OptionalKind>(
  kind: K,
  config: BrokerConfig,
  host: ProviderHost,
): Promise<CredentialProvider | null> {
  const profiles = profilesOf(config, kind);
  const section = config.providers[kind];
  if (!section) {
    if (Object.keys(profiles).length > 0)
      throw new Error(`${kind} profiles are configured but providers.${kind} is not`);
    return null;
  }
  const build = OPTIONAL_BUILDERS[kind];
  return build({ config: section, profiles }, host);
}
