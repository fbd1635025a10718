/**
 * Provider failures, split by what the broker should do next. Providers never import src/, so these live
 * here; the broker maps them (issuance → 502 provider_error, revocation → retry or revoke_failed).
 */
export class TransientProviderError extends Error {
  readonly retryable = true as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "TransientProviderError";
  }
}

export class PermanentProviderError extends Error {
  readonly retryable = false as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "PermanentProviderError";
  }
}

export type ProviderError = TransientProviderError | PermanentProviderError;

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof TransientProviderError || err instanceof PermanentProviderError;
}
