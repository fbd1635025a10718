import type { CredentialProvider, ProviderKind } from "../../providers/provider.js";
import type { SignerProvider } from "../../providers/signer/signer-provider.js";
import type { ProviderContext } from "./provider-context.js";
import { buildSignerProvider } from "./signer-builder.js";
import { buildStsProvider } from "./sts-builder.js";
import { buildVaultProvider } from "./vault-builder.js";

export interface BuiltProviders {
  signer: SignerProvider;
  all: CredentialProvider[];
}

/**
 * Builds every configured provider. The map is exhaustive over ProviderKind, so adding a kind without a
 * builder does not compile.
 */
export async function buildProviders(ctx: ProviderContext): Promise<BuiltProviders> {
  const signer = await buildSignerProvider(ctx);
  const builders: Record<
    Exclude<ProviderKind, "signer">,
    (ctx: ProviderContext) => Promise<CredentialProvider | null>
  > = {
    vault: buildVaultProvider,
    sts: buildStsProvider,
  };
  const built = await Promise.all(Object.values(builders).map((build) => build(ctx)));
  return { signer, all: [signer, ...built.filter((p): p is CredentialProvider => p !== null)] };
}
