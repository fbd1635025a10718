/** Redis keys of the auth domain. */
export function authKeys(prefix: string) {
  return {
    /** String with a TTL: one claimed workload assertion (`jti`, or the token's hash), per issuer. */
    replay: (issuerName: string, tokenIdOrHash: string) => `${prefix}:replay:${issuerName}:${tokenIdOrHash}`,
  };
}
