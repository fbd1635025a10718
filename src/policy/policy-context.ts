import type { Principal } from "../auth/principal.js";
import type { Task } from "../tasks/task-types.js";
import type { CedarValue, PolicyPrincipal, TaskResource } from "./policy-types.js";

/** The caller as the policy sees it. */
export function policyPrincipal(principal: Principal): PolicyPrincipal {
  return {
    id: principal.id,
    issuer: principal.issuer,
    subject: principal.subject,
    kind: principal.kind,
    tags: principal.tags,
    ...(principal.resourceServer
      ? { resourceServer: { audiences: [...principal.resourceServer.audiences] } }
      : {}),
  };
}

/** `Credbroker::Task` for a task (labels become tags). */
export function taskResource(task: Task): TaskResource {
  return {
    type: "Task",
    id: task.id,
    attrs: {
      intent: task.intent,
      initiator: task.initiator.subject,
      owner: task.owner,
      agent: task.agent,
      depth: task.depth,
    },
    tags: task.labels,
  };
}

/** `context.task`: the task's facts at decision time. */
export function taskInfo(task: Task, now: number): Record<string, CedarValue> {
  return {
    id: task.id,
    intent: task.intent,
    initiator: task.initiator.subject,
    initiator_verified: task.initiator.verified,
    owner: task.owner,
    agent: task.agent,
    depth: task.depth,
    remaining_seconds: Math.max(0, Math.floor((task.deadline - now) / 1000)),
    profiles: task.profiles ?? [],
    parent_id: task.parentId ?? "",
  };
}

export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);
