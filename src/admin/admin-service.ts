import type { AuditLog } from "../audit/audit-log.js";
import type { Principal } from "../auth/principal.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import type { Credential, CredentialState } from "../credentials/credential-types.js";
import { type Decide, requireAllowed } from "../policy/decider.js";
import { policyPrincipal } from "../policy/policy-context.js";
import type { CedarValue, PolicyAction } from "../policy/policy-types.js";
import type { EmergencyRevocation, RevocationOrder } from "../revocation/emergency-revocation.js";
import type { createResolveCredential } from "../revocation/resolve-credential.js";
import type { createRetryRevocation } from "../revocation/retry-revocation.js";
import type { Clock } from "../shared/clock.js";
import { notFound } from "../shared/errors.js";
import type { SummarizeTasks, TaskSummary } from "../tasks/task-details.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";

/** One page of a listing; the cursor is an offset into the underlying index. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AdminServiceDeps {
  decide: Decide;
  emergency: EmergencyRevocation;
  retryRevocation: ReturnType<typeof createRetryRevocation>;
  resolveCredential: ReturnType<typeof createResolveCredential>;
  rotateKeys: () => Promise<{ kid: string; previous_kid: string | null }>;
  tasks: Pick<TaskStore, "page" | "getMany">;
  credentials: Pick<CredentialStore, "page" | "failedPage" | "taskOf" | "getMany">;
  summarizeTasks: SummarizeTasks;
  audit: Pick<AuditLog, "append">;
  clock: Clock;
}

/** `/v1/admin`: operators' cross-task powers, each behind its own policy action, decided here. */
export function createAdminService(deps: AdminServiceDeps) {
  const allow = (principal: Principal, action: PolicyAction, context: Record<string, CedarValue> = {}) =>
    requireAllowed(
      deps.decide,
      {
        action,
        principal: policyPrincipal(principal),
        resource: { type: "Broker" },
        context: { ...context, now: Math.floor(deps.clock.now() / 1000) },
      },
      null,
    );
  const onCredential = (principal: Principal, credentialId: string, reason: string) =>
    allow(principal, "EmergencyRevoke", {
      selector_kind: "credential",
      selector_value: credentialId,
      reason,
      dry_run: false,
    });

  async function startRevocation(principal: Principal, order: RevocationOrder) {
    const [kind, value] = Object.entries(order.selector)[0] ?? ["all", true];
    await allow(principal, "EmergencyRevoke", {
      selector_kind: kind,
      selector_value: String(value),
      reason: order.reason,
      dry_run: order.dryRun,
    });
    return deps.emergency.start(principal.id, order);
  }

  async function revocationStatus(principal: Principal, revocationId: string) {
    await allow(principal, "EmergencyRevoke", {
      selector_kind: "status",
      selector_value: revocationId,
      reason: "",
      dry_run: true,
    });
    const status = await deps.emergency.get(revocationId);
    if (!status) throw notFound("Revocation");
    return status;
  }

  async function listRevocations(principal: Principal, query: { limit: number; cursor?: number }) {
    await allow(principal, "EmergencyRevoke", {
      selector_kind: "status",
      selector_value: "*",
      reason: "",
      dry_run: true,
    });
    return deps.emergency.list(query.limit, query.cursor ?? 0);
  }

  async function listTasks(
    principal: Principal,
    query: { state?: Task["state"]; agent?: string; initiator?: string; limit: number; cursor?: number },
  ): Promise<Page<TaskSummary>> {
    await allow(principal, "ReadAudit");
    const offset = query.cursor ?? 0;
    const ids = (await deps.tasks.page(query.limit, offset)).ids;
    const tasks = (await deps.tasks.getMany(ids)).filter(
      (task) =>
        (!query.state || task.state === query.state) &&
        (!query.agent || task.agent === query.agent) &&
        (!query.initiator || task.initiator.subject === query.initiator),
    );
    const items = await deps.summarizeTasks(tasks);
    return { items, nextCursor: ids.length === query.limit ? String(offset + ids.length) : null };
  }

  async function listCredentials(
    principal: Principal,
    query: { state?: CredentialState; provider?: string; task_id?: string; limit: number; cursor?: number },
  ): Promise<Page<Credential>> {
    await allow(principal, "ReadAudit");
    const offset = query.cursor ?? 0;
    const ids =
      query.state === "revoke_failed"
        ? await deps.credentials.failedPage(query.limit, offset)
        : await deps.credentials.page(query.limit, offset);
    const taskIds = await deps.credentials.taskOf(ids);
    const list = await deps.credentials.getMany(
      ids.flatMap((credentialId, i) => (taskIds[i] ? [{ taskId: taskIds[i], credentialId }] : [])),
    );
    const matches = (c: Credential) =>
      (!query.state || c.state === query.state) &&
      (!query.provider || c.provider === query.provider) &&
      (!query.task_id || c.taskId === query.task_id);
    return {
      items: list.filter(matches),
      nextCursor: ids.length === query.limit ? String(offset + ids.length) : null,
    };
  }

  async function retry(principal: Principal, credentialId: string) {
    await onCredential(principal, credentialId, "retry");
    return deps.retryRevocation(principal.id, credentialId);
  }

  async function resolve(principal: Principal, credentialId: string, reason: string) {
    await onCredential(principal, credentialId, reason);
    return deps.resolveCredential(principal.id, credentialId, reason);
  }

  async function rotateKeys(principal: Principal) {
    await allow(principal, "RotateKeys");
    const rotated = await deps.rotateKeys();
    await deps.audit.append({ type: "keys.rotated", actor: "system:broker", details: { kid: rotated.kid } });
    return rotated;
  }

  return {
    startRevocation,
    revocationStatus,
    listRevocations,
    listTasks,
    listCredentials,
    retry,
    resolve,
    rotateKeys,
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
