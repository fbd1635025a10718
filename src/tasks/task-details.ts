import type { CredentialCounts } from "../credentials/credential-store.js";
import type { Credential, CredentialState } from "../credentials/credential-types.js";
import type { TaskStore } from "./task-store.js";
import type { Task } from "./task-types.js";

/** A task with what its API view shows: its credentials and its children's ids. */
export interface TaskDetails {
  task: Task;
  credentials: Credential[];
  children: string[];
}

/** Reads the parts of a task's view; the caller already decided that the reader may see the task. */
export function createTaskDetails(deps: {
  tasks: Pick<TaskStore, "children">;
  credentials: { listForTask(taskId: string): Promise<Credential[]> };
}) {
  return async (task: Task): Promise<TaskDetails> => {
    const [credentials, children] = await Promise.all([
      deps.credentials.listForTask(task.id),
      deps.tasks.children(task.id),
    ]);
    return { task, credentials, children };
  };
}

export type DescribeTask = ReturnType<typeof createTaskDetails>;

/** A task as the admin listing shows it: its credentials counted per state, not listed. */
export interface TaskSummary {
  task: Task;
  counts: CredentialCounts;
  children: string[];
}

function countStates(states: { state: CredentialState }[]): CredentialCounts {
  const counts: CredentialCounts = {
    live: 0,
    revoking: 0,
    revoked: 0,
    expired: 0,
    revoke_failed: 0,
    failed: 0,
    resolved: 0,
  };
  for (const { state } of states) {
    if (state === "pending" || state === "active") counts.live++;
    else counts[state]++;
  }
  return counts;
}

/**
 * Summaries of a page of tasks: the per-state counts the credential scripts keep on each task hash (one
 * round trip for the page), so the cost does not grow with credentials per task. A task recorded before
 * the counts existed has its credentials' states read instead.
 */
export function createTaskSummaries(deps: {
  tasks: Pick<TaskStore, "children">;
  credentials: {
    countsFor(taskIds: string[]): Promise<(CredentialCounts | null)[]>;
    statesForTask(taskId: string): Promise<{ state: CredentialState }[]>;
  };
}) {
  return async (tasks: Task[]): Promise<TaskSummary[]> => {
    const [counted, children] = await Promise.all([
      deps.credentials.countsFor(tasks.map((task) => task.id)),
      Promise.all(tasks.map((task) => deps.tasks.children(task.id))),
    ]);
    return Promise.all(
      tasks.map(async (task, i) => ({
        task,
        counts: counted[i] ?? countStates(await deps.credentials.statesForTask(task.id)),
        children: children[i] ?? [],
      })),
    );
  };
}

export type SummarizeTasks = ReturnType<typeof createTaskSummaries>;
