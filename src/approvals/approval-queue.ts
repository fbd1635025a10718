import type { Principal } from "../auth/principal.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";
import type { ListApprovals } from "./approval-listing.js";
import type { Approval } from "./approval-types.js";

/** A pending approval with the task facts a human needs to decide it. */
export interface QueuedApproval {
  approval: Approval;
  task: Pick<
    Task,
    "id" | "agent" | "owner" | "initiator" | "intent" | "labels" | "actChain" | "deadline" | "state"
  > | null;
}

/**
 * The console's approvals queue: the approvals `GET /v1/approvals` would list for the caller (so the
 * policy already lets them decide each one, and the listing is audited), each with its task's facts.
 */
export function createApprovalQueue(deps: {
  listApprovals: ListApprovals;
  tasks: Pick<TaskStore, "getMany">;
}) {
  return async (principal: Principal, limit = 100): Promise<QueuedApproval[]> => {
    const page = await deps.listApprovals(principal, { limit });
    // Every task of the page in one read (approvals of one task share it).
    const tasks = await deps.tasks.getMany([...new Set(page.approvals.map((approval) => approval.taskId))]);
    const byId = new Map(tasks.map((task) => [task.id, task]));
    return page.approvals.map((approval) => {
      const task = byId.get(approval.taskId);
      return {
        approval,
        task: task
          ? {
              id: task.id,
              agent: task.agent,
              owner: task.owner,
              initiator: task.initiator,
              intent: task.intent,
              labels: task.labels,
              actChain: task.actChain,
              deadline: task.deadline,
              state: task.state,
            }
          : null,
      };
    });
  };
}

export type ApprovalQueue = ReturnType<typeof createApprovalQueue>;
