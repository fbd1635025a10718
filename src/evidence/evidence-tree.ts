import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";

/** The tasks an evidence report covers. */
export interface EvidenceTree {
  /** Ancestors of the subject task, outermost first (facts only: the delegation chain above it). */
  ancestors: Task[];
  subject: Task;
  /** Descendants, breadth-first. */
  descendants: Task[];
  /** Child ids of the subject task and of each descendant. */
  children: Map<string, string[]>;
  /** True when the subtree had more tasks than `maxTasks`. */
  truncated: boolean;
}

/**
 * Loads the delegation chain above `subject` and the subtree below it. Depth is capped by the broker's
 * delegation limit; the subtree is capped at `maxTasks` so one huge fan-out cannot stall the api.
 */
export async function loadEvidenceTree(
  tasks: Pick<TaskStore, "get" | "getMany" | "children">,
  subject: Task,
  maxTasks: number,
): Promise<EvidenceTree> {
  const ancestors: Task[] = [];
  const seen = new Set<string>([subject.id]);
  for (let parentId = subject.parentId; parentId !== null && !seen.has(parentId); ) {
    seen.add(parentId);
    const parent = await tasks.get(parentId);
    if (!parent) break;
    ancestors.unshift(parent);
    parentId = parent.parentId;
  }

  const descendants: Task[] = [];
  const children = new Map<string, string[]>();
  let frontier: Task[] = [subject];
  let truncated = false;
  while (frontier.length > 0) {
    const childIds = await Promise.all(frontier.map((task) => tasks.children(task.id)));
    const next: string[] = [];
    for (const [i, task] of frontier.entries()) {
      const ids = childIds[i] ?? [];
      children.set(task.id, ids);
      for (const id of ids) {
        if (seen.has(id)) continue;
        seen.add(id);
        next.push(id);
      }
    }
    const room = maxTasks - 1 - descendants.length;
    if (next.length > room) truncated = true;
    frontier = await tasks.getMany(next.slice(0, Math.max(0, room)));
    descendants.push(...frontier);
  }
  return { ancestors, subject, descendants, children, truncated };
}
