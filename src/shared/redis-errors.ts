/**
 * Telling a store failure from a bug. ioredis raises classes for refusals and retries, but plain `Error`s
 * for a command that got no reply in time, a socket that went silent, and a connection that is down; their
 * messages are ioredis's own (`Command.js`, `Redis.js`, `Redis.ts` in ioredis 6), so they are matched here
 * and nowhere else.
 */
const STORE_ERROR_NAMES = new Set([
  "ReplyError",
  "MaxRetriesPerRequestError",
  "AbortError",
  "ClusterAllFailedError",
]);

const STORE_ERROR_MESSAGES = [
  "Command timed out",
  "Socket timeout.",
  "Connection is closed.",
  "Stream isn't writeable",
  "None of startup nodes is available",
];

/** Whether `err` says Redis refused, lost or did not answer a command (never a programming error). */
export function isStoreFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (STORE_ERROR_NAMES.has(err.name)) return true;
  return STORE_ERROR_MESSAGES.some((prefix) => err.message.startsWith(prefix));
}

const SOCKET_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

/**
 * A store failure, or a socket error of the connection itself (what ioredis and BullMQ emit as `error` on
 * each failed reconnect). The connection watch reports those, once per condition.
 */
export function isConnectionFailure(err: unknown): boolean {
  if (isStoreFailure(err)) return true;
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return code !== undefined && SOCKET_ERROR_CODES.has(code);
}
