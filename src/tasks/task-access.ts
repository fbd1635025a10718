import type { Principal } from "../auth/principal.js";
import { notFound } from "../shared/errors.js";
import type { Task } from "./task-types.js";

/**
 * Isolation (DESIGN guarantee 6): on task routes a principal must be the task's or an ancestor's owner or
 * agent; anyone else gets 404, never a hint that the task exists. Checked before the policy is asked.
 */
export function requireRelated(task: Task | null, principal: Principal): Task {
  if (!task || !task.related.includes(principal.id)) throw notFound("Task");
  return task;
}
