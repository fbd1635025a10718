/**
 * Every Redis key of the STS provider. A role's keys share a hash tag (the role ARN), so they live on one
 * Redis Cluster slot; no operation spans two roles. None of them holds a secret key or session token.
 */
export function stsRedisKeys(keyPrefix: string) {
  const role = (roleArn: string) => `${keyPrefix}:sts:{${roleArn}}`;
  return {
    /** String: the per-role lock around the deny policy's read-modify-write (value = holder token). */
    lock: (roleArn: string) => `${role(roleArn)}:lock`,
    /** Hash: deny entries that must be in the role's policy (revokers add, the lock holder prunes). */
    desired: (roleArn: string) => `${role(roleArn)}:desired`,
    /** Hash: the entries of the last policy IAM accepted (written by the lock holder only). */
    applied: (roleArn: string) => `${role(roleArn)}:applied`,
    /** Sorted set: role ARNs scored by when their deny policy next has an entry to prune (epoch ms). */
    pruneDue: `${keyPrefix}:sts:prune-due`,
  };
}

export type StsRedisKeys = ReturnType<typeof stsRedisKeys>;
