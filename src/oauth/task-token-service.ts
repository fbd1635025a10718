import { TransientProviderError } from "../../providers/provider-errors.js";
import type { Principal } from "../auth/principal.js";
import { BrokerError } from "../shared/errors.js";
import type { OpenTaskInput, TaskService } from "../tasks/task-service.js";
import type { Task } from "../tasks/task-types.js";
import type { MintedTaskToken, TaskTokens } from "./task-tokens.js";

/**
 * Opening a task with its task token, and refreshing the token (docs/oauth.md "Task tokens"). The task
 * service decides (`OpenTask`/`DelegateTask`, `ReadTask`); a refresh is further limited to the task's own
 * owner and agent, and to an open task.
 */
export interface TaskTokenService {
  open(principal: Principal, input: OpenTaskInput): Promise<{ task: Task; taskToken: MintedTaskToken }>;
  refresh(principal: Principal, taskId: string): Promise<{ task: Task; taskToken: MintedTaskToken }>;
}

/** A signing key that cannot be read is the broker's store failing: 503, nothing else changed. */
async function minted(tokens: Pick<TaskTokens, "mint">, task: Task): Promise<MintedTaskToken> {
  try {
    return await tokens.mint(task);
  } catch (cause) {
    if (cause instanceof TransientProviderError) {
      throw new BrokerError("unavailable", "The broker cannot sign a task token right now.", { cause });
    }
    throw cause;
  }
}

export function createTaskTokenService(deps: {
  taskService: Pick<TaskService, "open" | "get">;
  tokens: Pick<TaskTokens, "mint">;
  now: () => number;
}): TaskTokenService {
  return {
    async open(principal, input) {
      const task = await deps.taskService.open(principal, input);
      return { task, taskToken: await minted(deps.tokens, task) };
    },
    async refresh(principal, taskId) {
      const task = await deps.taskService.get(principal, taskId);
      if (principal.id !== task.owner && principal.id !== task.agent) {
        throw new BrokerError("policy_denied", "Only the task's owner or agent may get its task token.", {
          details: { policies: [], rule: "task_token_requires_owner_or_agent" },
        });
      }
      if (task.state !== "open" || task.deadline - deps.now() < 1000) {
        throw new BrokerError(
          "task_not_open",
          `The task is ${task.state === "open" ? "past its deadline" : task.state}.`,
        );
      }
      return { task, taskToken: await minted(deps.tokens, task) };
    },
  };
}
