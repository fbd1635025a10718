import { PermanentProviderError, TransientProviderError } from "../provider-errors.js";

/**
 * Vault failures as the transport reports them, and their classification into what the broker does next.
 * Branches on status codes and Vault's stable error strings, never on node-vault's message text.
 */

/** Vault answered with an error status; `errors` is Vault's `{"errors": [...]}` list (may be empty). */
export class VaultApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
    readonly path: string,
  ) {
    super(`Vault answered ${status} on ${path}${errors.length > 0 ? `: ${firstLine(errors)}` : ""}`);
    this.name = "VaultApiError";
  }

  /** Whether any of Vault's error strings contains `text`. */
  says(text: string): boolean {
    return this.errors.some((e) => e.includes(text));
  }
}

/** No answer: connection refused or reset, DNS failure, TLS failure, or the request timed out. */
export class VaultUnreachableError extends Error {
  constructor(
    /** Node/axios error code, e.g. `ECONNREFUSED`, `ECONNABORTED`, `ETIMEDOUT`, `ECONNRESET`. */
    readonly code: string,
    readonly path: string,
  ) {
    super(`Vault did not answer on ${path} (${code})`);
    this.name = "VaultUnreachableError";
  }
}

/** Vault answered 200 with a body that is not the shape the broker relies on. */
export class VaultResponseError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`unexpected Vault response on ${path}: ${detail}`);
    this.name = "VaultResponseError";
  }
}

/**
 * Vault answered a success status with a body larger than the transport's cap; the read was aborted there.
 * Classified like any unreadable answer: permanent, and for a creating call "may have created".
 */
export class VaultResponseTooLargeError extends VaultResponseError {
  constructor(
    path: string,
    readonly limitBytes: number,
  ) {
    super(path, `the body is larger than ${limitBytes} bytes (read aborted)`);
    this.name = "VaultResponseTooLargeError";
  }
}

/** Vault's multierror strings span lines (`1 error occurred:\n\t* permission denied\n\n`); keep the gist. */
function firstLine(errors: readonly string[]): string {
  const text = errors[0] ?? "";
  const bullet = text.match(/\*\s*(.+)/);
  return (bullet?.[1] ?? text).trim();
}

/** 400 strings that mean "the thing is already gone": revoke-accessor and renew/lookup on dead leases. */
const GONE = ["invalid accessor", "lease not found", "invalid lease"];

/** Whether a revocation failed only because the lease or token no longer exists (which is success). */
export function isAlreadyGone(err: unknown): boolean {
  return err instanceof VaultApiError && err.status === 400 && GONE.some((text) => err.says(text));
}

/**
 * Transient (retry with backoff): no answer or a timeout, sealed (503), 5xx, 429 and 412 (a performance
 * standby not yet consistent), and a backend that failed to revoke (`failed to revoke entry`: the database
 * may come back). Permanent (stop): 403 permission denied, other 4xx, and malformed responses.
 * `doing` names the operation for the message the broker records (`last_error`), which holds no secrets.
 */
export function classifyVaultError(
  err: unknown,
  doing: string,
): TransientProviderError | PermanentProviderError {
  if (err instanceof TransientProviderError || err instanceof PermanentProviderError) return err;
  if (err instanceof VaultUnreachableError) {
    return new TransientProviderError(`Vault unreachable while ${doing} (${err.code})`, { cause: err });
  }
  if (err instanceof VaultApiError) {
    const reason = firstLine(err.errors) || `status ${err.status}`;
    if (err.status === 503) {
      return new TransientProviderError(`Vault unavailable while ${doing}: ${reason}`, { cause: err });
    }
    if (err.status >= 500 || err.status === 429 || err.status === 412) {
      return new TransientProviderError(`Vault failed while ${doing} (${err.status}): ${reason}`, {
        cause: err,
      });
    }
    if (err.status === 400 && err.says("failed to revoke")) {
      return new TransientProviderError(`Vault's backend failed while ${doing}: ${reason}`, { cause: err });
    }
    if (err.status === 403) {
      return new PermanentProviderError(
        `Vault denied ${doing} (403 ${reason}): the broker's Vault token lacks the policy for ${err.path}`,
        { cause: err },
      );
    }
    return new PermanentProviderError(`Vault refused ${doing} (${err.status}): ${reason}`, { cause: err });
  }
  if (err instanceof VaultResponseError) return new PermanentProviderError(err.message, { cause: err });
  throw err;
}

/** Codes meaning the request never reached Vault (no connection, no TLS session), so Vault did nothing. */
const NEVER_SENT = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * Whether a failed creating call (a secret read, a token create) may still have created something at Vault:
 * yes when no answer came back after the request may have been sent (timeout, reset), when a proxy answered
 * 502/504 in Vault's place, or when Vault answered 200 with an unreadable body. An error answered by Vault
 * itself (sealed, denied, bad request, internal error, which Vault rolls back) created nothing.
 */
export function mayHaveCreated(err: unknown): boolean {
  if (err instanceof VaultUnreachableError) return !NEVER_SENT.has(err.code);
  if (err instanceof VaultApiError) return err.status === 502 || err.status === 504;
  return true;
}

/**
 * Issuance failures in the broker's terms: PermanentProviderError when nothing exists at Vault (the broker
 * marks the credential `failed`), TransientProviderError when something may exist (the broker revokes it
 * defensively from the credential id). Errors the mode code already decided pass through.
 */
export function classifyIssueFailure(
  err: unknown,
  doing: string,
): TransientProviderError | PermanentProviderError {
  if (err instanceof TransientProviderError || err instanceof PermanentProviderError) return err;
  const { message } = classifyVaultError(err, doing);
  return mayHaveCreated(err)
    ? new TransientProviderError(message, { cause: err })
    : new PermanentProviderError(message, { cause: err });
}
