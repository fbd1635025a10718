import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  type IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { awsErrorCode, classifyAwsError } from "./sts-errors.js";

/**
 * The three IAM calls on one inline role policy, with IAM's quirks handled once: GetRolePolicy returns the
 * document URL-encoded (the SDK does not decode it), a missing policy is `NoSuchEntity`, and a write past
 * the role's inline budget is `LimitExceeded` (409), which the caller answers with a smaller document.
 */
export interface RolePolicyApi {
  /** The decoded document, or undefined when the role has no such policy. */
  read(roleName: string): Promise<string | undefined>;
  /** `over_budget` when IAM refused the size (LimitExceeded). */
  write(roleName: string, document: string): Promise<"ok" | "over_budget">;
  /** Deleting a policy that is already gone is fine. */
  remove(roleName: string): Promise<void>;
}

export function createRolePolicyApi(deps: {
  iam: Pick<IAMClient, "send">;
  policyName: string;
}): RolePolicyApi {
  const { iam, policyName } = deps;
  return {
    async read(roleName) {
      try {
        const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
        return out.PolicyDocument === undefined ? undefined : decodeURIComponent(out.PolicyDocument);
      } catch (err) {
        if (awsErrorCode(err) === "NoSuchEntity") return undefined;
        throw classifyAwsError(err, `IAM GetRolePolicy ${roleName}/${policyName}`);
      }
    },
    async write(roleName, document) {
      try {
        await iam.send(
          new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: document }),
        );
        return "ok";
      } catch (err) {
        if (awsErrorCode(err) === "LimitExceeded") return "over_budget";
        throw classifyAwsError(err, `IAM PutRolePolicy ${roleName}/${policyName}`);
      }
    },
    async remove(roleName) {
      try {
        await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
      } catch (err) {
        if (awsErrorCode(err) === "NoSuchEntity") return;
        throw classifyAwsError(err, `IAM DeleteRolePolicy ${roleName}/${policyName}`);
      }
    },
  };
}
