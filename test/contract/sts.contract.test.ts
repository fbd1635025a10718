import { startStsFixture } from "../sims/sts/sts-fixture.js";
import { type ContractFixture, runProviderContract } from "./provider-contract.js";

/**
 * The STS provider against the STS/IAM simulator. "Usable" is the simulator's data plane: would AWS honour
 * a request signed with the issued keys. Faults are the simulator's own: a failing IAM call (500) and a
 * broker user refused iam:PutRolePolicy (AccessDenied).
 */
runProviderContract({
  name: "sts",
  async setup(): Promise<ContractFixture> {
    const f = await startStsFixture({ name: "contract", maxAttempts: 1 });
    return {
      provider: f.provider,
      profile: "reports-ro",
      isUsable: async (issued) => f.canRead(issued),
      failNextRevokeTransiently: () => f.sim.failNext(1, { actions: ["GetRolePolicy", "PutRolePolicy"] }),
      failRevokesPermanently: () => f.sim.denyActions(["iam:PutRolePolicy"]),
      clearFaults: () => f.sim.clearFaults(),
      teardown: () => f.close(),
    };
  },
});
