/**
 * Redis keys of the credentials domain. A credential shares its task's `{taskId}` hash tag, so issuing
 * (check the task is open, record the credential) is one Lua step on one Cluster slot.
 */
export function credentialKeys(prefix: string) {
  return {
    /** Hash: the credential record. */
    credential: (taskId: string, credentialId: string) => `${prefix}:cred:{${taskId}}:${credentialId}`,
    /** Hash: credential id → task id. */
    index: `${prefix}:creds:index`,
    /** Sorted set: pending credentials by creation time (ms); the reconciler revokes stale ones. */
    pending: `${prefix}:creds:pending`,
    /** Sorted set: active credentials by expiry (ms). */
    active: `${prefix}:creds:active`,
    /** Sorted set: credentials in revoke_failed by failure time (ms). */
    failed: `${prefix}:creds:failed`,
    /** Sorted set: revoke_failed credentials due for a scheduled retry, by due time (ms); never permanent ones. */
    retryDue: `${prefix}:creds:retry_due`,
    /** Sorted set: every credential by creation time (ms), for listings. */
    all: `${prefix}:creds:all`,
  };
}

export type CredentialKeys = ReturnType<typeof credentialKeys>;
