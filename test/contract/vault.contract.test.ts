import { BROKER_POLICY, startBrokerVaultSim } from "../sims/vault/vault-sim-fixtures.js";
import { buildTestVaultProvider } from "../sims/vault/vault-test-provider.js";
import { type ContractFixture, runProviderContract } from "./provider-contract.js";

/**
 * The Vault provider against the simulator, once per mode. "Usable" means the sim holds the lease (and its
 * database user) or the token. Faults are the sim's own: a 500 on the next revocation call (transient) and a
 * broker policy stripped of its revoke paths (403 permission denied, permanent).
 */
const REVOKE_PATHS = /^(sys\/leases\/revoke|auth\/token\/revoke-accessor)$/;
const {
  "sys/leases/revoke": _lease,
  "auth/token/revoke-accessor": _accessor,
  ...withoutRevoke
} = BROKER_POLICY;

for (const mode of ["secret", "token"] as const) {
  runProviderContract({
    name: `vault-${mode}`,
    async setup(): Promise<ContractFixture> {
      const { sim, brokerToken } = await startBrokerVaultSim();
      const { provider } = buildTestVaultProvider({
        address: sim.address,
        login: { method: "token", token: brokerToken },
      });
      return {
        provider,
        profile: mode === "secret" ? "reports-db" : "reports-token",
        identifierFields: ["lease_id", "accessor"],
        async isUsable(issued) {
          if (mode === "token") return sim.isTokenLive(String(issued.secret.token));
          const data = issued.secret.data as { username: string };
          return sim.isLeaseLive(String(issued.secret.lease_id)) && sim.isDbUserLive(data.username);
        },
        failNextRevokeTransiently: () => sim.failNext(1, "error500", REVOKE_PATHS),
        failRevokesPermanently: () => sim.setPolicy("credbroker", withoutRevoke),
        clearFaults() {
          sim.setPolicy("credbroker", BROKER_POLICY);
          sim.clearFaults();
        },
        async teardown() {
          await provider.close();
          await sim.close();
        },
      };
    },
  });
}
