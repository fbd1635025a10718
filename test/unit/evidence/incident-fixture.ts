import type { AuditDecision, AuditEventInput } from "../../../src/audit/audit-types.js";
import { createEvidenceBuilder } from "../../../src/evidence/evidence-builder.js";
import type { EvidenceReport } from "../../../src/evidence/evidence-types.js";
import { chain, checkpointAt, credential, MIN, memoryDeps, T0, task } from "./evidence-fixtures.js";

/** The policy-set hash of every decision in the incident. */
export const HASH = "b".repeat(64);
const decided = (
  actor: string,
  taskId: string,
  action: string,
  effect: AuditDecision["effect"],
  ids: string[],
): AuditEventInput => ({
  type: "decision",
  actor,
  task_id: taskId,
  decision: { action, effect, policy_ids: ids, policy_set_hash: HASH },
});

/**
 * An incident: alice's planner delegated to a worker, a write needed an approval (denied), one request was
 * denied, and an operator's emergency revocation closed the tree. A checkpoint covers the first 6 events.
 */
export async function incidentReport(): Promise<EvidenceReport> {
  const root = task({ id: "tsk_root", state: "closed", closeReason: "revoked", closedAt: T0 + 20 * MIN });
  const child = task({
    id: "tsk_child",
    parentId: "tsk_root",
    depth: 1,
    agent: "ci:worker",
    state: "closed",
    closeReason: "parent_closed",
    closedAt: T0 + 20 * MIN,
    actChain: ["ci:planner"],
  });
  const approval = { approval_id: "apr_1", profile: "tickets-api" };
  const events = chain([
    decided("ci:planner", "tsk_root", "OpenTask", "allow", ["ci-tasks"]),
    decided("ci:planner", "tsk_child", "DelegateTask", "allow", ["ci-tasks"]),
    decided("ci:planner", "tsk_root", "RequestCredential", "allow", ["ci-tickets"]),
    decided("ci:worker", "tsk_child", "RequestCredential", "approval_required", ["write-needs-approval"]),
    { type: "approval.requested", actor: "ci:worker", task_id: "tsk_child", details: approval },
    { type: "approval.denied", actor: "ci:approver-bob", task_id: "tsk_child", details: approval },
    decided("ci:worker", "tsk_child", "RequestCredential", "deny", ["no-blocked-agent"]),
    decided("ci:worker", "tsk_child", "RequestCredential", "allow", ["ci-reports"]),
  ]);
  const credentials = [
    credential({ id: "crd_read", taskId: "tsk_root", state: "revoked", revokedAt: T0 + 20 * MIN }),
    credential({
      id: "crd_report",
      taskId: "tsk_child",
      agent: "ci:worker",
      profile: "reports-api",
      provider: "vault",
      scopes: ["reports:read"],
      downstreamAccount: "vault:reports",
      state: "expired",
      expiresAt: T0 + MIN,
      ttlSeconds: 60,
      policyIds: ["ci-reports"],
    }),
  ];
  const deps = memoryDeps({
    tasks: [root, child],
    credentials,
    events,
    checkpoints: [checkpointAt(events[5]!)],
  });
  return createEvidenceBuilder(deps).build(root);
}
