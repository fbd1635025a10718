import type { AuditLog } from "../audit/audit-log.js";
import type { Principal } from "../auth/principal.js";
import type { PolicyEngine } from "../policy/policy-engine.js";
import type { Decision, PolicyAction, PolicyRequest } from "../policy/policy-types.js";
import { BrokerError, notFound } from "../shared/errors.js";
import type { Task } from "./task-types.js";

/**
 * Isolation (DESIGN guarantee 6): on task routes a principal must be the task's or an ancestor's owner or
 * agent; anyone else gets 404, never a hint that the task exists.
 */
export function requireRelated(task: Task | null, principal: Principal): Task {
  if (!task || !task.related.includes(principal.id)) throw notFound("Task");
  return task;
}

/** Decides, records the decision in the audit log (fail closed), and throws 403 unless allowed. */
export function createDecider(deps: {
  policy: Pick<PolicyEngine, "authorize">;
  audit: Pick<AuditLog, "append">;
}) {
  return async function decide(
    request: PolicyRequest,
    subject: { taskId?: string | null; credentialId?: string | null },
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
    });
    return decision;
  };
}

export type Decide = ReturnType<typeof createDecider>;

export function policyDenied(action: PolicyAction, decision: Decision): BrokerError {
  return new BrokerError("policy_denied", `The policy does not allow ${action} here.`, {
    details: { policies: decision.policyIds, policy_set_hash: decision.policySetHash },
  });
}

/** Decides and throws 403 for anything but allow. */
export async function requireAllowed(
  decide: Decide,
  request: PolicyRequest,
  taskId: string | null,
): Promise<Decision> {
  const decision = await decide(request, { taskId });
  if (decision.effect !== "allow") throw policyDenied(request.action, decision);
  return decision;
}
