import type { CredentialProvider } from "../../providers/provider.js";
import { type ProviderContext, profilesOf } from "./provider-context.js";

/** The AWS STS provider, when `providers.sts` is configured (implemented with issue 4). */
export async function buildStsProvider(ctx: ProviderContext): Promise<CredentialProvider | null> {
  const profiles = profilesOf(ctx.config, "sts");
  if (!ctx.config.providers.sts) {
    if (Object.keys(profiles).length > 0)
      throw new Error("sts profiles are configured but providers.sts is not");
    return null;
  }
  throw new Error("the sts provider is not available in this build");
}
