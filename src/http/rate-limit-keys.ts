/** Redis keys of the request rate limit. */
export function rateLimitKeys(prefix: string) {
  return {
    /** Counter with a TTL: one principal's requests in one one-minute window (minutes since the epoch). */
    window: (principalId: string, window: number) => `${prefix}:rl:${principalId}:${window}`,
    /** A SCAN/KEYS pattern matching every window counter (for inspection). */
    everyWindow: `${prefix}:rl:*`,
  };
}
