import { type BrokerError, isBrokerError } from "../shared/errors.js";

/**
 * RFC 6749 §5.2 error codes the OAuth endpoints answer, with those of RFC 8707 (`invalid_target`), CIBA
 * (`authorization_pending`, `slow_down`, `access_denied`, `expired_token`), RFC 9449 (`invalid_dpop_proof`,
 * `use_dpop_nonce`) and the two server-side codes of RFC 6749 §4.1.2.1.
 */
export const OAUTH_ERROR_CODES = [
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "invalid_target",
  "authorization_pending",
  "slow_down",
  "access_denied",
  "expired_token",
  "invalid_dpop_proof",
  "use_dpop_nonce",
  "unsupported_token_type",
  "temporarily_unavailable",
  "server_error",
] as const;
export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  authorization_pending: 400,
  slow_down: 400,
  access_denied: 400,
  expired_token: 400,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  unsupported_token_type: 400,
  temporarily_unavailable: 503,
  server_error: 500,
};

/** An error of an OAuth endpoint, answered `{error, error_description, …extra}` (RFC 6749 §5.2). */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly status: number;
  /** Extra response members (CIBA's `auth_req_id`, `expires_in`, `interval`). */
  readonly extra: Record<string, string | number>;
  readonly headers: Record<string, string>;

  constructor(
    error: OAuthErrorCode,
    description: string,
    options: {
      status?: number;
      extra?: Record<string, string | number>;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(description, { cause: options.cause });
    this.name = "OAuthError";
    this.error = error;
    this.status = options.status ?? STATUS[error];
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}

/** The OAuth code a broker error stands for at the token endpoint. */
const FROM_BROKER: Record<BrokerError["code"], { error: OAuthErrorCode; status?: number }> = {
  invalid_request: { error: "invalid_request" },
  // Only client authentication (revocation) reaches here: the grants turn their own assertion failures into invalid_grant.
  invalid_assertion: { error: "invalid_client" },
  invalid_client: { error: "invalid_client" },
  policy_denied: { error: "invalid_grant" },
  not_found: { error: "invalid_grant" },
  task_not_open: { error: "invalid_grant" },
  approval_not_pending: { error: "invalid_grant" },
  payload_too_large: { error: "invalid_request", status: 413 },
  unknown_profile: { error: "invalid_target" },
  ttl_out_of_range: { error: "invalid_request" },
  scope_not_allowed: { error: "invalid_scope" },
  rate_limited: { error: "temporarily_unavailable", status: 429 },
  quota_exceeded: { error: "temporarily_unavailable", status: 429 },
  provider_error: { error: "server_error", status: 502 },
  unavailable: { error: "temporarily_unavailable" },
  internal_error: { error: "server_error" },
};

/** A broker error in the OAuth shape; its message (safe for clients) becomes the description. */
export function fromBrokerError(err: BrokerError): OAuthError {
  const mapped = FROM_BROKER[err.code];
  return new OAuthError(mapped.error, err.message, {
    status: mapped.status,
    headers: err.headers,
    cause: err,
  });
}

export function isOAuthError(err: unknown): err is OAuthError {
  return err instanceof OAuthError;
}

/** Any error the OAuth routes meet, as an OAuthError (broker errors mapped, others left to the caller). */
export function asOAuthError(err: unknown): OAuthError | undefined {
  if (isOAuthError(err)) return err;
  if (isBrokerError(err)) return fromBrokerError(err);
  return undefined;
}
