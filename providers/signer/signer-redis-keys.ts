/**
 * Every Redis key of the signer, built in one place. `keys` and `current` share the `{signer}` hash tag:
 * the initialise and rotate scripts touch both, which on Redis Cluster requires one slot.
 */
export function signerRedisKeys(keyPrefix: string) {
  return {
    /** Hash: kid → JSON key record (see `keyRecordSchema` in redis-key-source.ts). */
    keys: `${keyPrefix}:{signer}:keys`,
    /** String: the kid that signs now. */
    current: `${keyPrefix}:{signer}:current`,
    /** The untagged names `keys` and `current` had before Cluster support; read at start to adopt that ring. */
    legacy: { keys: `${keyPrefix}:signer:keys`, current: `${keyPrefix}:signer:current` },
    /** String with a TTL: present while the token with this jti is revoked and not yet expired. */
    deny: (jti: string) => `${keyPrefix}:signer:deny:${jti}`,
  };
}
