import { humanIdentity } from "../auth/human-identity.js";
import type { Principal } from "../auth/principal.js";
import { epochSeconds, policyPrincipal, taskInfo } from "../policy/policy-context.js";
import type { PolicyRequest } from "../policy/policy-types.js";
import type { Task } from "../tasks/task-types.js";
import type { Approval } from "./approval-types.js";

/** The `Approve` policy request for `principal` deciding `approval` (its task as of `now`). */
export function approveRequest(
  principal: Principal,
  approval: Approval,
  task: Task,
  now: number,
): PolicyRequest {
  return {
    action: "Approve",
    principal: policyPrincipal(principal),
    resource: { type: "Profile", id: approval.profile, provider: approval.provider },
    context: {
      task: taskInfo(task, now),
      profile: approval.profile,
      provider: approval.provider,
      ttl_seconds: approval.ttlSeconds ?? 0,
      scopes: approval.scopes,
      reason: approval.reason,
      approved: false,
      now: epochSeconds(now),
      requester: approval.requester,
      requester_identity: { ...approval.requesterIdentity },
      approver_identity: { ...humanIdentity(principal) },
    },
  };
}
