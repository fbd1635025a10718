/** Redis keys of the revocation domain (emergency revocation records; BullMQ's own keys). */
export function revocationKeys(prefix: string) {
  return {
    /** String (JSON): one emergency revocation's status as recorded at its start; expires after 30 days. */
    record: (revocationId: string) => `${prefix}:rev:{${revocationId}}`,
    /** List: the matched (root) task ids, closed by the worker in batches from `progress.cursor`; same expiry. */
    tasks: (revocationId: string) => `${prefix}:rev:{${revocationId}}:tasks`,
    /** Hash: credential id → task id of every credential the revocation reached; same expiry. */
    credentials: (revocationId: string) => `${prefix}:rev:{${revocationId}}:creds`,
    /** Hash: credential id → progress bucket (`revoking`, `revoke_failed`) of those not finished yet; same expiry. */
    open: (revocationId: string) => `${prefix}:rev:{${revocationId}}:open`,
    /** Hash: credential id → task id of the reached credentials now in `revoke_failed` (the status's `failed` list). */
    failed: (revocationId: string) => `${prefix}:rev:{${revocationId}}:failed`,
    /** Hash: the progress counters per bucket, `recorded`, the close `cursor`, `claimed` and `phase`; same expiry. */
    progress: (revocationId: string) => `${prefix}:rev:{${revocationId}}:progress`,
    /** Sorted set: every emergency revocation by start time (ms), for the listing; entries outlive records by at most their TTL. */
    all: `${prefix}:revocations:all`,
    /** Sorted set: revocations whose worker job has not finished, by start time (the reconciler re-queues them). */
    running: `${prefix}:revocations:running`,
    /** BullMQ's key prefix: one hash tag, so the queue works on Redis Cluster. */
    bull: `${prefix}:{bull}`,
  };
}
