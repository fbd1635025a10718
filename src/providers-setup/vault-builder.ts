import type { CredentialProvider } from "../../providers/provider.js";
import { type ProviderContext, profilesOf } from "./provider-context.js";

/** The Vault provider, when `providers.vault` is configured (implemented with issue 3). */
export async function buildVaultProvider(ctx: ProviderContext): Promise<CredentialProvider | null> {
  const profiles = profilesOf(ctx.config, "vault");
  if (!ctx.config.providers.vault) {
    if (Object.keys(profiles).length > 0)
      throw new Error("vault profiles are configured but providers.vault is not");
    return null;
  }
  throw new Error("the vault provider is not available in this build");
}
