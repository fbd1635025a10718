import { PermanentProviderError, type ProviderError, TransientProviderError } from "../provider-errors.js";

/**
 * Turns an AWS SDK failure into the broker's two kinds (DESIGN "Providers"): throttling, 5xx, timeouts and
 * network errors are transient (retry with backoff); AccessDenied, NoSuchEntity and other 4xx are
 * permanent (stop, revoke_failed). The SDK has already retried `max_attempts` times before this runs.
 */

/** Codes that mean "slow down", whatever status they come with. */
const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "SlowDown",
]);

/** Client-side failures that say nothing about the request itself. */
const TRANSIENT_NAMES = new Set([
  "TimeoutError",
  "AbortError",
  "RequestTimeout",
  "RequestTimeoutException",
  "ExpiredToken",
  "IDPCommunicationError",
  "IDPCommunicationErrorException",
  "CredentialsProviderError",
]);
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);

/** The wire code of an AWS error (`AccessDenied`, `NoSuchEntity`…), with the SDK's `Exception` suffix removed. */
export function awsErrorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = "Code" in err && typeof err.Code === "string" ? err.Code : err.name;
  return code.endsWith("Exception") && code !== "Exception" ? code.slice(0, -"Exception".length) : code;
}

function httpStatus(err: Error): number | undefined {
  if (!("$metadata" in err) || typeof err.$metadata !== "object" || err.$metadata === null) return undefined;
  const status: unknown = "httpStatusCode" in err.$metadata ? err.$metadata.httpStatusCode : undefined;
  return typeof status === "number" ? status : undefined;
}

export function isTransientAwsError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (THROTTLING.has(err.name) || TRANSIENT_NAMES.has(err.name)) return true;
  const code = awsErrorCode(err);
  if (code !== undefined && (THROTTLING.has(code) || TRANSIENT_NAMES.has(code))) return true;
  if ("code" in err && typeof err.code === "string" && NETWORK_CODES.has(err.code)) return true;
  if ("$fault" in err && err.$fault === "server") return true;
  const status = httpStatus(err);
  return status === undefined ? !("$fault" in err) : status >= 500 || status === 429;
}

/**
 * The provider error for an AWS failure while doing `what` ("AssumeRole on <role>"). The message names the
 * AWS code and stays free of secrets (AWS messages carry ARNs, never keys).
 */
export function classifyAwsError(err: unknown, what: string): ProviderError {
  const code = awsErrorCode(err) ?? "Error";
  const detail = err instanceof Error ? err.message : String(err);
  const message = `${what} failed: ${code}: ${detail}`;
  return isTransientAwsError(err)
    ? new TransientProviderError(message, { cause: err })
    : new PermanentProviderError(message, { cause: err });
}
