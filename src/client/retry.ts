import { CredbrokerError } from "./errors.js";

/** How the client retries; every field has a default. */
export interface RetryOptions {
  /** Tries per call, the first included. Default 4; 1 disables retries. */
  attempts?: number;
  /** First backoff delay; it doubles per retry, with full jitter. Default 250 ms. */
  baseDelayMs?: number;
  /** Longest backoff delay. Default 5 s. */
  maxDelayMs?: number;
  /**
   * Longest `Retry-After` the client waits out. A broker asking for more is answered with the
   * `rate_limited` (or `unavailable`) error at once, so callers are never parked silently. Default 60 s.
   */
  maxRetryAfterMs?: number;
  /** Called before each retry, e.g. to log it. */
  onRetry?: (event: RetryEvent) => void;
  /** How to wait (tests substitute a clock). Default: a timer that the call's signal cancels. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One retry about to happen. */
export interface RetryEvent {
  method: string;
  path: string;
  /** The try that failed (1 for the first). */
  attempt: number;
  delayMs: number;
  /** What failed: an HTTP status, or the client error code (`network_error`). */
  reason: number | string;
  requestId: string;
}

/** Retry options with every default filled in. */
export type RetryPolicy = Required<Omit<RetryOptions, "onRetry">> & Pick<RetryOptions, "onRetry">;

/** Fills in the defaults of {@link RetryOptions}. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    attempts: Math.max(1, Math.floor(options.attempts ?? 4)),
    baseDelayMs: options.baseDelayMs ?? 250,
    maxDelayMs: options.maxDelayMs ?? 5_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    onRetry: options.onRetry,
    sleep: options.sleep ?? abortableSleep,
  };
}

/** Full-jitter exponential backoff for the `attempt`-th failure (1-based). */
export function backoffDelay(
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  attempt: number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Resolves after `ms`, or rejects with an `aborted` error as soon as `signal` fires. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The `aborted` error for a fired signal, with the signal's reason as its cause. */
export function abortedError(signal: AbortSignal | undefined): CredbrokerError {
  return new CredbrokerError("aborted", "The operation was aborted.", { cause: signal?.reason });
}

/** Error codes of failures that happen before a single byte of the request reaches the broker. */
const CONNECT_PHASE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  return typeof err.code === "string" ? err.code : undefined;
}

/**
 * True when a failed `fetch` never sent the request (refused connection, unknown host, connect timeout):
 * then even a non-idempotent call can be retried, because the broker cannot have acted on it.
 */
export function failedBeforeSending(err: unknown): boolean {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof AggregateError) {
    return (
      cause.errors.length > 0 &&
      cause.errors.every((inner) => CONNECT_PHASE_CODES.has(errorCode(inner) ?? ""))
    );
  }
  return CONNECT_PHASE_CODES.has(errorCode(cause) ?? "");
}
