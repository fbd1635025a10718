import { startVaultSim, type VaultSim, type VaultSimOptions } from "./vault-sim.js";
import type { SimPolicy } from "./vault-sim-acl.js";

/**
 * A Vault set up the way docs/providers/vault.md tells an operator to: a `credbroker` policy for the broker's
 * own token, a database role, a token role for agent tokens, an agent policy, and an AppRole for the broker.
 */

/** The policy docs/providers/vault.md gives the broker (the sim has no HCL parser; same rules as a map). */
export const BROKER_POLICY: SimPolicy = {
  "database/creds/*": ["read"],
  "auth/token/create": ["update"],
  "auth/token/create-orphan": ["update", "sudo"],
  "auth/token/create/credbroker": ["update"],
  "auth/token/revoke-accessor": ["update"],
  "auth/token/lookup-accessor": ["update"],
  "auth/token/accessors": ["list", "sudo"],
  "sys/leases/renew": ["update"],
  "sys/leases/revoke": ["update"],
};

/** An agent policy that token profiles hand out. */
export const REPORTS_POLICY: SimPolicy = { "secret/data/reports/*": ["read"] };

export const APPROLE = { roleId: "credbroker-role-id", secretId: "credbroker-secret-id" };

export interface BrokerVaultSim {
  sim: VaultSim;
  /** The broker's token (policy `credbroker`, renewable, 1 h). */
  brokerToken: string;
}

/** Starts the sim with the fixtures above and mints the broker's token. */
export async function startBrokerVaultSim(
  options: VaultSimOptions & { brokerTokenTtlSeconds?: number; namespace?: string } = {},
): Promise<BrokerVaultSim> {
  const sim = await startVaultSim({
    ...options,
    policies: { credbroker: BROKER_POLICY, "reports-read": REPORTS_POLICY, ...options.policies },
    dbRoles: {
      "reports-ro": { defaultTtl: 3600, maxTtl: 86_400 },
      "tickets-rw": { defaultTtl: 300, maxTtl: 900 },
      ...options.dbRoles,
    },
    tokenRoles: { credbroker: { allowedPolicies: ["reports-read"], orphan: true, renewable: false } },
    appRoles: {
      credbroker: { ...APPROLE, policies: ["credbroker"], tokenTtl: 3600, tokenMaxTtl: 14_400 },
      ...options.appRoles,
    },
  });
  const { token } = sim.createToken({
    policies: ["credbroker"],
    ttlSeconds: options.brokerTokenTtlSeconds ?? 3600,
    namespace: options.namespace,
    displayName: "credbroker",
  });
  return { sim, brokerToken: token };
}
