import { DeleteRolePolicyCommand, GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { Redis } from "ioredis";
import { vi } from "vitest";
import type { IssuedCredential } from "../../providers/provider.js";
import { roleNameOf } from "../../providers/sts/role-directory.js";
import { assembleStsProvider, DENY_POLICY_NAME, stsClients } from "../../providers/sts/sts-builder.js";
import { stsProviderConfigSchema } from "../../providers/sts/sts-config.js";
import { awsErrorCode } from "../../providers/sts/sts-errors.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../support/redis-keys.js";
import { type ContractFixture, runProviderContract } from "./provider-contract.js";

/**
 * The same contract against real AWS, opt-in:
 *   CREDBROKER_TEST_AWS_ROLE_ARN  a role whose permissions allow `iam:GetRole` on itself (the usability probe)
 *                                 and whose trust policy lets the caller sts:AssumeRole, sts:TagSession and
 *                                 sts:SetSourceIdentity;
 *   AWS credentials for the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE),
 *   allowed what docs/providers/aws-sts.md lists; AWS_REGION (default us-east-1).
 * Faults are injected by a middleware on the IAM client. A revoked session is probed until IAM's deny has
 * propagated (bounded), since AWS applies policy changes eventually.
 */
const roleArn = process.env.CREDBROKER_TEST_AWS_ROLE_ARN ?? "";
const hasCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE);
const skipReason = !roleArn
  ? "set CREDBROKER_TEST_AWS_ROLE_ARN (and AWS credentials) to run against real AWS"
  : hasCredentials
    ? undefined
    : "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE to run against real AWS";
const region = process.env.AWS_REGION ?? "us-east-1";
const PROPAGATION_BOUND_MS = 240_000;

vi.setConfig({ testTimeout: PROPAGATION_BOUND_MS + 60_000 });

/** An error shaped as the SDK shapes AWS's. */
const awsError = (name: string, status: number, message: string) =>
  Object.assign(new Error(message), { name, $fault: "client", $metadata: { httpStatusCode: status } });

/** Whether AWS honours the issued keys: `iam:GetRole` on the role, which the session policy allows. */
async function probe(issued: IssuedCredential): Promise<boolean> {
  const client = new IAMClient({
    region,
    maxAttempts: 1,
    credentials: {
      accessKeyId: String(issued.secret.access_key_id),
      secretAccessKey: String(issued.secret.secret_access_key),
      sessionToken: String(issued.secret.session_token),
    },
  });
  try {
    await client.send(new GetRoleCommand({ RoleName: roleNameOf(roleArn) }));
    return true;
  } catch (err) {
    if (awsErrorCode(err) === "AccessDenied") return false;
    throw err;
  } finally {
    client.destroy();
  }
}

runProviderContract({
  name: "sts-real",
  skipReason,
  async setup(): Promise<ContractFixture> {
    const prefix = uniquePrefix("contract-sts-real");
    const redis = new Redis(TEST_REDIS_URL);
    const config = stsProviderConfigSchema.parse({ region, max_attempts: 3, timeout_ms: 10_000 });
    const faults = { transient: 0, permanent: false };
    const { sts, iam } = stsClients(config, process.env);
    iam.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "PutRolePolicyCommand") {
          if (faults.permanent) throw awsError("AccessDenied", 403, "not authorized (injected)");
          if (faults.transient > 0) {
            faults.transient--;
            throw awsError("Throttling", 400, "Rate exceeded (injected)");
          }
        }
        return next(args);
      },
      { step: "initialize", name: "credbrokerTestFaults" },
    );
    const revoked = new Set<string>();
    const provider = assembleStsProvider({
      config,
      profiles: {
        real: {
          provider: "sts",
          role_arn: roleArn,
          session_policy: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "iam:GetRole", Resource: roleArn }],
          },
          max_ttl_seconds: 900,
        },
      },
      redis,
      keyPrefix: prefix,
      now: () => Date.now(),
      sts,
      iam,
    });
    return {
      provider: {
        ...provider,
        async revoke(request) {
          const outcome = await provider.revoke(request);
          if (request.handle) revoked.add(request.handle);
          return outcome;
        },
      },
      profile: "real",
      async isUsable(issued) {
        if (!revoked.has(issued.handle)) return probe(issued);
        const until = Date.now() + PROPAGATION_BOUND_MS;
        while (Date.now() < until) {
          if (!(await probe(issued))) return false;
          await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
        return true;
      },
      failNextRevokeTransiently: () => {
        faults.transient = 1;
      },
      failRevokesPermanently: () => {
        faults.permanent = true;
      },
      clearFaults: () => {
        faults.transient = 0;
        faults.permanent = false;
      },
      async teardown() {
        const cleaner = stsClients(config, process.env).iam;
        await cleaner
          .send(new DeleteRolePolicyCommand({ RoleName: roleNameOf(roleArn), PolicyName: DENY_POLICY_NAME }))
          .catch(() => undefined);
        cleaner.destroy();
        await provider.close();
        redis.disconnect();
        await deleteByPrefix(TEST_REDIS_URL, prefix);
      },
    };
  },
});
