/** Redis keys of the OAuth side. */
export function oauthKeys(prefix: string) {
  return {
    /** String with a TTL of the poll interval: a CIBA poll of this approval happened within the interval. */
    cibaPoll: (approvalId: string) => `${prefix}:oauth:ciba-poll:${approvalId}`,
  };
}
