/** Redis keys of the web console. Both hold handles only: the key is a SHA-256 of the browser's secret. */
export function consoleKeys(prefix: string) {
  return {
    /** Hash: a signed-in session (principal, created, last seen), by SHA-256 of the session cookie. */
    session: (sessionHash: string) => `${prefix}:console:session:${sessionHash}`,
    /** String (JSON): a sign-in in progress (state, nonce, return path), by SHA-256 of the login cookie. */
    login: (loginHash: string) => `${prefix}:console:login:${loginHash}`,
  };
}
