/**
 * Error codes the broker answers with (API.md, "Errors"). Branch on these, never on message text.
 */
export type BrokerErrorCode =
  | "invalid_request"
  | "invalid_assertion"
  | "invalid_client"
  | "policy_denied"
  | "not_found"
  | "task_not_open"
  | "approval_not_pending"
  | "payload_too_large"
  | "unknown_profile"
  | "ttl_out_of_range"
  | "scope_not_allowed"
  | "rate_limited"
  | "quota_exceeded"
  | "provider_error"
  | "unavailable"
  | "internal_error";

/**
 * Error codes the client raises itself (`status` is 0 unless an HTTP answer caused it):
 * - `approval_denied`, `approval_expired`, `approval_cancelled`: the approval ended without a credential.
 * - `approval_already_redeemed`: the approval was redeemed by another read (or its answer was lost); the
 *   broker hands a redeemed credential out exactly once and never issues it twice.
 * - `approval_timeout`: `wait()` gave up; the approval may still be pending and can be waited on again.
 * - `aborted`: the caller's `AbortSignal` fired.
 * - `timeout`: one HTTP request took longer than the client's `timeoutMs`.
 * - `network_error`: the broker could not be reached, or the connection broke.
 * - `invalid_response`: the broker (or a proxy in front of it) answered something that is not the API.
 * - `assertion_unavailable`: the assertion source failed (missing file, unset env var, throwing function).
 */
export type ClientErrorCode =
  | "approval_denied"
  | "approval_expired"
  | "approval_cancelled"
  | "approval_already_redeemed"
  | "approval_timeout"
  | "aborted"
  | "timeout"
  | "network_error"
  | "invalid_response"
  | "assertion_unavailable";

/**
 * Every code a {@link CredbrokerError} can carry. Codes a newer broker adds pass through unchanged, so the
 * union stays open (`string & Record<never, never>` keeps editor completion for the known ones).
 */
export type CredbrokerErrorCode = BrokerErrorCode | ClientErrorCode | (string & Record<never, never>);

/** Construction options of a {@link CredbrokerError}. */
export interface CredbrokerErrorOptions {
  /** HTTP status of the answer that caused it; 0 when no answer did. */
  status?: number;
  /** `error.details` of the broker's answer, or client-side facts (e.g. the approval's comment). */
  details?: Record<string, unknown>;
  /** The `X-Request-Id` of the call: find it in the broker's logs. */
  requestId?: string;
  /** Seconds the broker asked to wait (`Retry-After`), when it said so. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** The one error type of the client: a stable `code`, the HTTP `status` and the broker's `details`. */
export class CredbrokerError extends Error {
  readonly code: CredbrokerErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: CredbrokerErrorCode, message: string, options: CredbrokerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CredbrokerError";
    this.code = code;
    this.status = options.status ?? 0;
    this.details = options.details;
    this.requestId = options.requestId;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** True when `err` is a {@link CredbrokerError} (with the given code, when one is given). */
export function isCredbrokerError(err: unknown, code?: CredbrokerErrorCode): err is CredbrokerError {
  return err instanceof CredbrokerError && (code === undefined || err.code === code);
}
