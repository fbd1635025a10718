/** Redis keys of the OAuth side. */
export function oauthKeys(prefix: string) {
  return {
    /** String with a TTL of the poll interval: a CIBA poll of this approval happened within the interval. */
    cibaPoll: (approvalId: string) => `${prefix}:oauth:ciba-poll:${approvalId}`,
    /** String with a TTL of two windows: the DPoP server nonce of one nonce window (RFC 9449 §8). */
    dpopNonce: (window: number) => `${prefix}:oauth:dpop-nonce:${window}`,
  };
}
