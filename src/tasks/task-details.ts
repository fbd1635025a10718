import type { Credential } from "../credentials/credential-types.js";
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
