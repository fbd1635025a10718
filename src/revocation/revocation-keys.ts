/** Redis keys of the revocation domain (emergency revocation records; BullMQ's own keys). */
export function revocationKeys(prefix: string) {
  return {
    /** String (JSON): one emergency revocation's status as recorded at its start; expires after 30 days. */
    record: (revocationId: string) => `${prefix}:rev:{${revocationId}}`,
    /** Hash: credential id → task id of every credential the revocation reached; same expiry. */
    credentials: (revocationId: string) => `${prefix}:rev:{${revocationId}}:creds`,
    /** Sorted set: every emergency revocation by start time (ms), for the listing; entries outlive records by at most their TTL. */
    all: `${prefix}:revocations:all`,
    /** BullMQ's key prefix: one hash tag, so the queue works on Redis Cluster. */
    bull: `${prefix}:{bull}`,
  };
}
