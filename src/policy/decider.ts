import type { AuditLog } from "../audit/audit-log.js";
import type { DecisionRead } from "../audit/audit-types.js";
import { BrokerError } from "../shared/errors.js";
import type { PolicyEngine } from "./policy-engine.js";
import type { Decision, PolicyAction, PolicyRequest } from "./policy-types.js";

/**
 * The one place a policy decision is made: asks the policy, records the decision in the audit log (fail
 * closed: a decision that cannot be recorded is not made) and returns it. Every caller is a service; route
 * files never decide. `requireAllowed` turns anything but `allow` into a 403. `subject.read` records that
 * the decision was about reading the task, not acting on it (see `DecisionRead`).
 */
export function createDecider(deps: {
  policy: Pick<PolicyEngine, "authorize">;
  audit: Pick<AuditLog, "append">;
}) {
  return async function decide(
    request: PolicyRequest,
    subject: { taskId?: string | null; credentialId?: string | null; read?: DecisionRead },
  ): Promise<Decision> {
    const decision = deps.policy.authorize(request);
    await deps.audit.append({
      type: "decision",
      actor: request.principal.id,
      task_id: subject.taskId ?? null,
      credential_id: subject.credentialId ?? null,
      decision: {
        action: request.action,
        effect: decision.effect,
        policy_ids: decision.policyIds,
        policy_set_hash: decision.policySetHash,
      },
      ...(subject.read ? { details: { read: subject.read } } : {}),
    });
    return decision;
  };
}

export type Decide = ReturnType<typeof createDecider>;

/**
 * The 403 for a decision that is not `allow`: names the principal, the action and the policies that decided
 * (ids, never policy text), so a caller can tell which check failed.
 */
export function policyDenied(action: PolicyAction, decision: Decision, principalId?: string): BrokerError {
  const who = principalId ? `${principalId} to ` : "";
  const why =
    decision.policyIds.length > 0
      ? ` (decided by ${decision.policyIds.join(", ")})`
      : " (no policy permits it)";
  return new BrokerError("policy_denied", `The policy does not allow ${who}${action} here${why}.`, {
    details: { policies: decision.policyIds, policy_set_hash: decision.policySetHash, action },
  });
}

/** Decides and throws 403 for anything but allow. */
export async function requireAllowed(
  decide: Decide,
  request: PolicyRequest,
  taskId: string | null,
  read?: DecisionRead,
): Promise<Decision> {
  const decision = await decide(request, read ? { taskId, read } : { taskId });
  if (decision.effect !== "allow") throw policyDenied(request.action, decision, request.principal.id);
  return decision;
}
