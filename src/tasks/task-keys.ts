/**
 * Redis keys of the tasks domain. Keys of one task share the `{taskId}` hash tag so its Lua steps stay on
 * one Cluster slot; the cross-task indexes are hints that the reconciler can rebuild from the records.
 */
export function taskKeys(prefix: string) {
  return {
    /** Hash: the task record. */
    task: (taskId: string) => `${prefix}:task:{${taskId}}`,
    /** List: credential ids of the task, in issue order. */
    credentials: (taskId: string) => `${prefix}:task:{${taskId}}:creds`,
    /** List: child task ids. */
    children: (taskId: string) => `${prefix}:task:{${taskId}}:children`,
    /** Sorted set: open tasks by deadline (ms). */
    open: `${prefix}:tasks:open`,
    /** Sorted set: closing tasks by the time closing began (ms). */
    closing: `${prefix}:tasks:closing`,
    /** Sorted set: one owner's open tasks by deadline (ms), for the open-task quota; past-deadline entries do not count. */
    openByOwner: (owner: string) => `${prefix}:tasks:open_by:${owner}`,
    /** Sorted set: every task by creation time (ms), for listings. */
    all: `${prefix}:tasks:all`,
  };
}

export type TaskKeys = ReturnType<typeof taskKeys>;
