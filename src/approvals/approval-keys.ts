/** Redis keys of approvals; an approval shares its task's `{taskId}` hash tag. */
export function approvalKeys(prefix: string) {
  return {
    /** Hash: the approval record (no secrets: the credential is issued only when the requester redeems). */
    approval: (taskId: string, approvalId: string) => `${prefix}:apr:{${taskId}}:${approvalId}`,
    /** List: approval ids of a task. */
    ofTask: (taskId: string) => `${prefix}:task:{${taskId}}:approvals`,
    /** Hash: approval id → task id. */
    index: `${prefix}:approvals:index`,
    /** Sorted set: pending approvals by expiry (ms). */
    pending: `${prefix}:approvals:pending`,
    /** Sorted set: one requester's pending approvals by expiry (ms), for the pending-approval quota. */
    pendingBy: (requester: string) => `${prefix}:approvals:pending_by:${requester}`,
  };
}
