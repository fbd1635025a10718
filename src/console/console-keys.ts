/** Redis keys of the web console: handles only, each keyed by a SHA-256 of the browser's secret. */
export function consoleKeys(prefix: string) {
  return {
    /** Hash: a signed-in session (principal, created, last seen), by SHA-256 of the session cookie. */
    session: (sessionHash: string) => `${prefix}:console:session:${sessionHash}`,
  };
}
