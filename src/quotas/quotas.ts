import type { ApprovalStore } from "../approvals/approval-store.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import { BrokerError } from "../shared/errors.js";
import type { TaskStore } from "../tasks/task-store.js";

/** The per-principal limits (`limits` in the config), each a contract name in `details.limit`. */
export interface QuotaLimits {
  open_tasks_per_principal: number;
  children_per_task: number;
  credentials_per_task: number;
  pending_approvals_per_requester: number;
}

export type QuotaName = keyof QuotaLimits;

/**
 * Checks a principal's use against its limits before anything is written, answering 429 `quota_exceeded`
 * with `details: {limit, max}`. A check and the write after it are not one atomic step, so concurrent
 * requests of one principal may overshoot a limit by at most their number.
 */
export function createQuotas(deps: {
  limits: QuotaLimits;
  tasks: Pick<TaskStore, "openCountOf" | "childCount">;
  credentials: Pick<CredentialStore, "countForTask">;
  approvals: Pick<ApprovalStore, "pendingCountOf">;
  now: () => number;
  onExceeded: (limit: QuotaName) => void;
}) {
  function enforce(limit: QuotaName, used: number): void {
    const max = deps.limits[limit];
    if (used < max) return;
    deps.onExceeded(limit);
    throw new BrokerError("quota_exceeded", `Limit reached: ${limit} is ${max}.`, {
      details: { limit, max },
    });
  }
  return {
    async openTask(owner: string, parentId: string | null): Promise<void> {
      // The narrower limit first: a delegation that breaks both says it is the parent that is full.
      if (parentId) enforce("children_per_task", await deps.tasks.childCount(parentId));
      enforce("open_tasks_per_principal", await deps.tasks.openCountOf(owner, deps.now()));
    },
    /** How many credentials the task holds: read beside the task itself, enforced after the decision. */
    credentialsUsed: (taskId: string): Promise<number> => deps.credentials.countForTask(taskId),
    issueCredential(used: number): void {
      enforce("credentials_per_task", used);
    },
    async openApproval(requester: string): Promise<void> {
      enforce("pending_approvals_per_requester", await deps.approvals.pendingCountOf(requester, deps.now()));
    },
  };
}

export type Quotas = ReturnType<typeof createQuotas>;
