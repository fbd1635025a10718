import { readFileSync } from "node:fs";
import type { CredentialProvider } from "../provider.js";
import type { ProviderHost, ProviderSection } from "../provider-host.js";
import type { VaultProfile, VaultProviderConfig } from "./vault-config.js";
import { createVaultProvider } from "./vault-provider.js";
import { createVaultSession, type VaultLogin } from "./vault-session.js";
import { createVaultTransport } from "./vault-transport.js";

/**
 * Reads one secret from a file (when configured) or an environment variable: never from the YAML. A file wins
 * over the variable, since a mounted secret is the deliberate choice. Errors name the place and the fix.
 */
function readSecret(
  host: ProviderHost,
  what: string,
  source: { env: string; file: string | undefined },
): string {
  if (source.file !== undefined) {
    const file = host.resolvePath(source.file);
    let text: string;
    try {
      text = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new Error(`providers.vault: cannot read the ${what} from ${file}: ${(err as Error).message}`);
    }
    if (text === "") throw new Error(`providers.vault: the ${what} file ${file} is empty`);
    return text;
  }
  const value = host.env[source.env]?.trim();
  if (!value) {
    throw new Error(
      `providers.vault: the ${what} is missing: set the environment variable ${source.env} (or point the ` +
        "config at a file)",
    );
  }
  return value;
}

function loginOf(host: ProviderHost, auth: VaultProviderConfig["auth"]): VaultLogin {
  if (auth.method === "token") {
    return {
      method: "token",
      token: readSecret(host, "Vault token", { env: auth.token_env, file: auth.token_file }),
    };
  }
  return {
    method: "approle",
    mount: auth.mount,
    roleId: auth.role_id,
    secretId: readSecret(host, "AppRole secret id", { env: auth.secret_id_env, file: auth.secret_id_file }),
  };
}

/**
 * The Vault provider from `providers.vault` and the `provider: vault` profiles. Vault being down does not
 * stop the broker starting.
 */
export async function buildVaultProvider(
  section: ProviderSection<VaultProviderConfig, VaultProfile>,
  host: ProviderHost,
): Promise<CredentialProvider> {
  const { config: cfg, profiles } = section;
  const login = loginOf(host, cfg.auth);
  const ca = cfg.ca_file === undefined ? undefined : readFileSync(host.resolvePath(cfg.ca_file), "utf8");
  const transport = createVaultTransport({
    address: cfg.address,
    namespace: cfg.namespace,
    timeoutMs: cfg.timeout_ms,
    ca,
  });
  const logger = host.logger.child({ provider: "vault" });
  const now = host.now;
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
