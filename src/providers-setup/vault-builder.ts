import { readFileSync } from "node:fs";
import path from "node:path";
import type { CredentialProvider } from "../../providers/provider.js";
import type { VaultProviderConfig } from "../../providers/vault/vault-config.js";
import { createVaultProvider } from "../../providers/vault/vault-provider.js";
import { createVaultSession, type VaultLogin } from "../../providers/vault/vault-session.js";
import { createVaultTransport } from "../../providers/vault/vault-transport.js";
import { type ProviderContext, profilesOf } from "./provider-context.js";

/**
 * Reads one secret from a file (when configured) or an environment variable: never from the YAML. A file wins
 * over the variable, since a mounted secret is the deliberate choice. Errors name the place and the fix.
 */
function readSecret(
  ctx: ProviderContext,
  what: string,
  source: { env: string; file: string | undefined },
): string {
  if (source.file !== undefined) {
    const file = path.resolve(ctx.configDir, source.file);
    let text: string;
    try {
      text = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new Error(`providers.vault: cannot read the ${what} from ${file}: ${(err as Error).message}`);
    }
    if (text === "") throw new Error(`providers.vault: the ${what} file ${file} is empty`);
    return text;
  }
  const value = ctx.env[source.env]?.trim();
  if (!value) {
    throw new Error(
      `providers.vault: the ${what} is missing: set the environment variable ${source.env} (or point the ` +
        "config at a file)",
    );
  }
  return value;
}

function loginOf(ctx: ProviderContext, auth: VaultProviderConfig["auth"]): VaultLogin {
  if (auth.method === "token") {
    return {
      method: "token",
      token: readSecret(ctx, "Vault token", { env: auth.token_env, file: auth.token_file }),
    };
  }
  return {
    method: "approle",
    mount: auth.mount,
    roleId: auth.role_id,
    secretId: readSecret(ctx, "AppRole secret id", { env: auth.secret_id_env, file: auth.secret_id_file }),
  };
}

/** The Vault provider, when `providers.vault` is configured. Vault being down does not stop the broker starting. */
export async function buildVaultProvider(ctx: ProviderContext): Promise<CredentialProvider | null> {
  const profiles = profilesOf(ctx.config, "vault");
  const cfg = ctx.config.providers.vault;
  if (!cfg) {
    if (Object.keys(profiles).length > 0)
      throw new Error("vault profiles are configured but providers.vault is not");
    return null;
  }
  const login = loginOf(ctx, cfg.auth);
  const ca =
    cfg.ca_file === undefined ? undefined : readFileSync(path.resolve(ctx.configDir, cfg.ca_file), "utf8");
  const transport = createVaultTransport({
    address: cfg.address,
    namespace: cfg.namespace,
    timeoutMs: cfg.timeout_ms,
    ca,
  });
  const logger = ctx.logger.child({ provider: "vault" });
  const now = () => ctx.clock.now();
  const session = createVaultSession({ transport, login, now, logger });
  session.start();
  return createVaultProvider({
    session,
    transport,
    profiles,
    now,
    logger,
    tokenRole: cfg.token_role,
    timeoutMs: cfg.timeout_ms,
  });
}
