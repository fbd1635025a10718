/**
 * Every audit key shares the `{audit}` hash tag so one Lua script can append atomically on Redis Cluster.
 */
export function auditKeys(prefix: string) {
  const base = `${prefix}:{audit}`;
  return {
    /** Stream of events; entry field `e` = the event's canonical JSON (with its hash). */
    stream: `${base}:stream`,
    /** String `"<seq> <hash>"`: the chain head. */
    head: `${base}:head`,
    /** Sorted set of signed checkpoints (JSON) by sequence number. */
    checkpoints: `${base}:checkpoints`,
    /** The checkpoint at the retention trim point: the first kept event links to its hash. */
    anchor: `${base}:anchor`,
    /** Lock so one worker at a time seals checkpoints and trims. */
    sealLock: `${base}:seal-lock`,
    /** Hash: one full verification run (state, actor, times, progress, result JSON); expires after 7 days. */
    verification: (verificationId: string) => `${base}:verification:${verificationId}`,
    /** List of stream ids of one task's events. */
    task: (taskId: string) => `${base}:task:${taskId}`,
  };
}
