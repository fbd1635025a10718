import type { Principal } from "../auth/principal.js";
import { isBrokerError } from "../shared/errors.js";
import { tokenTyp } from "../shared/jwt-header.js";
import type { Task } from "../tasks/task-types.js";
import { OAuthError } from "./oauth-errors.js";
import { TASK_TOKEN_TYP, type TaskTokens } from "./task-tokens.js";

/** Who a grant acts for, and under which task. */
export interface GrantSubject {
  principal: Principal;
  /** Undefined only for a workload JWT presented without `task_id`. */
  taskId: string | undefined;
  /** How the caller proved it: a task token, or a workload JWT of a configured issuer. */
  via: "task_token" | "workload_jwt";
}

export interface GrantSubjectDeps {
  taskTokens: Pick<TaskTokens, "resolve">;
  /** The assertion verifier of `/v1` (configured `issuers`). */
  verifyWorkload: (assertion: string) => Promise<Principal>;
  /** The principal a live task token stands for: the task's agent. */
  agentPrincipal: (task: Task) => Principal;
}

/**
 * Reads an RFC 7523 assertion: a task token (its `typ` says so) stands for its task's agent under its task,
 * as long as the task is open; anything else must be a workload JWT that `/v1` would accept. A `task_id`
 * beside a task token must name the same task.
 */
export function createGrantSubjects(deps: GrantSubjectDeps) {
  return async function grantSubject(assertion: string, taskId: string | undefined): Promise<GrantSubject> {
    if (tokenTyp(assertion) === TASK_TOKEN_TYP) {
      const live = await deps.taskTokens.resolve(assertion);
      if (!live) {
        throw new OAuthError("invalid_grant", "The task token is not valid, or its task is no longer open.");
      }
      if (taskId !== undefined && taskId !== live.task.id) {
        throw new OAuthError("invalid_grant", "task_id names another task than the task token.");
      }
      return { principal: deps.agentPrincipal(live.task), taskId: live.task.id, via: "task_token" };
    }
    try {
      return { principal: await deps.verifyWorkload(assertion), taskId, via: "workload_jwt" };
    } catch (err) {
      if (isBrokerError(err) && err.code === "invalid_assertion") {
        throw new OAuthError("invalid_grant", err.message, { cause: err });
      }
      throw err;
    }
  };
}

export type GrantSubjects = ReturnType<typeof createGrantSubjects>;
