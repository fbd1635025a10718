/**
 * The broker's one error type. `code` is a stable part of the HTTP contract (shared/API.md);
 * the error middleware maps it to a status exactly once.
 */
export type BrokerErrorCode =
  | "invalid_request"
  | "invalid_assertion"
  | "policy_denied"
  | "not_found"
  | "task_not_open"
  | "approval_not_pending"
  | "payload_too_large"
  | "unknown_profile"
  | "ttl_out_of_range"
  | "scope_not_allowed"
  | "rate_limited"
  | "provider_error"
  | "unavailable"
  | "internal_error";

const STATUS: Record<BrokerErrorCode, number> = {
  invalid_request: 400,
  invalid_assertion: 401,
  policy_denied: 403,
  not_found: 404,
  task_not_open: 409,
  approval_not_pending: 409,
  payload_too_large: 413,
  unknown_profile: 422,
  ttl_out_of_range: 422,
  scope_not_allowed: 422,
  rate_limited: 429,
  provider_error: 502,
  unavailable: 503,
  internal_error: 500,
};

export interface BrokerErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
}

export class BrokerError extends Error {
  readonly code: BrokerErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: BrokerErrorCode, message: string, options: BrokerErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "BrokerError";
    this.code = code;
    this.status = STATUS[code];
    this.details = options.details;
    this.headers = options.headers;
  }
}

export function isBrokerError(err: unknown): err is BrokerError {
  return err instanceof BrokerError;
}

export const notFound = (what: string): BrokerError => new BrokerError("not_found", `${what} not found.`);

/** Wraps a failed write to Redis or the audit log: the broker fails closed. */
export const unavailable = (cause: unknown): BrokerError =>
  new BrokerError("unavailable", "The broker cannot record this request right now; nothing was issued.", {
    cause,
  });
