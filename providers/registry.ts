import type { CredentialProvider, ProviderKind } from "./provider.js";

/** The configured providers, looked up by kind or by the profile they serve. */
export interface ProviderRegistry {
  forProfile(profile: string): CredentialProvider | undefined;
  byKind(kind: ProviderKind): CredentialProvider | undefined;
  all(): readonly CredentialProvider[];
  closeAll(): Promise<void>;
}

export function createProviderRegistry(providers: readonly CredentialProvider[]): ProviderRegistry {
  const byKind = new Map<ProviderKind, CredentialProvider>(providers.map((p) => [p.kind, p]));
  return {
    forProfile: (profile) => providers.find((provider) => provider.hasProfile(profile)),
    byKind: (kind) => byKind.get(kind),
    all: () => providers,
    async closeAll() {
      await Promise.all(providers.map((provider) => provider.close()));
    },
  };
}
