/**
 * The broker's one error type. `code` is a stable part of the HTTP contract (shared/API.md);
 * the error middleware maps it to a status exactly once.
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

const STATUS: Record<BrokerErrorCode, number> = {
  invalid_request: 400,
  invalid_assertion: 401,
  invalid_client: 401,
  policy_denied: 403,
  not_found: 404,
  task_not_open: 409,
  approval_not_pending: 409,
  payload_too_large: 413,
  unknown_profile: 422,
  ttl_out_of_range: 422,
  scope_not_allowed: 422,
  rate_limited: 429,
  quota_exceeded: 429,
  provider_error: 502,
  unavailable: 503,
  internal_error: 500,
};

/** Every code, for the OpenAPI document's enum. */
export const BROKER_ERROR_CODES = Object.keys(STATUS) as [BrokerErrorCode, ...BrokerErrorCode[]];

/** The HTTP status a code is answered with. */
export const errorStatus = (code: BrokerErrorCode): number => STATUS[code];

/** One field problem of an `invalid_request`. */
export interface InputIssue {
  path: string;
  message: string;
}

/**
 * `error.details` of the codes clients branch on (API.md): the broker may add fields, never rename or drop
 * one. Codes not listed carry free-form details (or none).
 */
export interface BrokerErrorDetailsByCode {
  invalid_request: { issues: InputIssue[] };
  invalid_assertion: { reason: string };
  policy_denied: { policies: string[]; policy_set_hash?: string; rule?: string; action?: string };
  approval_not_pending: { state: string; reason?: string | null };
  /** `profile` for a credential request; `profiles` for a task naming unknown ones. */
  unknown_profile: { profile?: string; profiles?: string[] };
  ttl_out_of_range: { max_ttl_seconds: number };
  scope_not_allowed: {
    allowed: readonly string[] | null;
    profile?: string;
    profiles?: string[];
    scopes?: string[];
  };
  provider_error: { provider: string };
  /** Which per-principal limit (`limits.<name>` in the config) and its value. */
  quota_exceeded: { limit: string; max: number };
}

/** The details a code takes: its contract from BrokerErrorDetailsByCode, else anything. */
export type BrokerErrorDetails<C extends BrokerErrorCode> = C extends keyof BrokerErrorDetailsByCode
  ? BrokerErrorDetailsByCode[C]
  : Record<string, unknown>;

export interface BrokerErrorOptions<C extends BrokerErrorCode = BrokerErrorCode> {
  details?: BrokerErrorDetails<C>;
  cause?: unknown;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
}

export class BrokerError<C extends BrokerErrorCode = BrokerErrorCode> extends Error {
  readonly code: C;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  /** `details` are checked against the code's contract (BrokerErrorDetailsByCode) where it has one. */
  constructor(code: C, message: string, options: BrokerErrorOptions<C> = {}) {
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
