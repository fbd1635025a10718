import type { IssuedCredential } from "../../providers/provider.js";
import { VaultApiError } from "../../providers/vault/vault-errors.js";
import { createVaultTransport } from "../../providers/vault/vault-transport.js";
import { buildTestVaultProvider } from "../sims/vault/vault-test-provider.js";
import { type TransportFaults, withTransportFaults } from "../sims/vault/vault-transport-faults.js";
import { type ContractFixture, runProviderContract } from "./provider-contract.js";

/**
 * The same contract against a real Vault, when one is configured:
 *   VAULT_ADDR, VAULT_TOKEN (allowed what docs/providers/vault.md lists, plus auth/token/create-orphan for
 *   the token run and sys/leases/lookup to check usability), VAULT_TEST_DB_ROLE (a database role),
 *   optionally VAULT_TEST_DB_MOUNT (default `database`) and VAULT_NAMESPACE.
 * A real Vault cannot be told to fail, so faults are injected at the provider's transport seam.
 */
const required = ["VAULT_ADDR", "VAULT_TOKEN", "VAULT_TEST_DB_ROLE"] as const;
const missing = required.filter((name) => !process.env[name]);
const skipReason = missing.length > 0 ? `set ${missing.join(", ")} to run against a real Vault` : undefined;

const address = process.env.VAULT_ADDR ?? "";
const token = process.env.VAULT_TOKEN ?? "";
const namespace = process.env.VAULT_NAMESPACE || undefined;
const dbPath = `${process.env.VAULT_TEST_DB_MOUNT ?? "database"}/creds/${process.env.VAULT_TEST_DB_ROLE ?? ""}`;

/** Whether Vault still knows the lease or token (400 = revoked or expired). */
async function liveAtVault(issued: IssuedCredential): Promise<boolean> {
  const transport = createVaultTransport({ address, namespace, timeoutMs: 5_000 });
  try {
    await transport.send(
      "lease_id" in issued.secret
        ? { method: "POST", path: "sys/leases/lookup", token, body: { lease_id: issued.secret.lease_id } }
        : {
            method: "POST",
            path: "auth/token/lookup-accessor",
            token,
            body: { accessor: issued.secret.accessor },
          },
    );
    return true;
  } catch (err) {
    if (err instanceof VaultApiError && err.status === 400) return false;
    throw err;
  } finally {
    transport.close();
  }
}

for (const mode of ["secret", "token"] as const) {
  runProviderContract({
    name: `vault-real-${mode}`,
    skipReason,
    async setup(): Promise<ContractFixture> {
      const faults: TransportFaults = { resetRevokes: 0, denyRevokes: false };
      const { provider } = buildTestVaultProvider({
        address,
        namespace,
        timeoutMs: 10_000,
        login: { method: "token", token },
        profiles: {
          real:
            mode === "secret"
              ? { provider: "vault", mode: "secret", path: dbPath, max_ttl_seconds: 900 }
              : { provider: "vault", mode: "token", policies: ["default"], max_ttl_seconds: 900 },
        },
        wrapTransport: withTransportFaults(faults),
      });
      return {
        provider,
        profile: "real",
        identifierFields: ["lease_id", "accessor"],
        isUsable: liveAtVault,
        failNextRevokeTransiently: () => {
          faults.resetRevokes = 1;
        },
        failRevokesPermanently: () => {
          faults.denyRevokes = true;
        },
        clearFaults: () => {
          faults.denyRevokes = false;
          faults.resetRevokes = 0;
        },
        teardown: () => provider.close(),
      };
    },
  });
}
