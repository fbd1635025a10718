import type { ProviderKind } from "../../providers/provider.js";

/**
 * `pending → active → revoking → revoked | expired | revoke_failed`; `failed` when the provider refused to
 * issue (nothing exists downstream); `resolved` when an operator settled a revoke_failed credential by hand.
 */
export type CredentialState =
  | "pending"
  | "active"
  | "revoking"
  | "revoked"
  | "expired"
  | "revoke_failed"
  | "failed"
  | "resolved";

export const CREDENTIAL_STATES = [
  "pending",
  "active",
  "revoking",
  "revoked",
  "expired",
  "revoke_failed",
  "failed",
  "resolved",
] as const satisfies readonly CredentialState[];

/** `revoke_reason` of a credential whose issuance failed in a way that may hide an issued secret. */
export const UNCERTAIN_ISSUE = "issue_uncertain";

/** States after which nothing more happens to a credential (revoke_failed can still be retried or resolved). */
export const SETTLED_STATES: ReadonlySet<CredentialState> = new Set([
  "revoked",
  "expired",
  "failed",
  "resolved",
]);

/**
 * Why a credential is in revoke_failed: the provider said it can never succeed (`permanent`: not retried
 * by itself), every attempt of a job failed (`exhausted`: retried on a growing interval), or workers died
 * while revoking it (`stalled`: retried like exhausted).
 */
export type FailureKind = "permanent" | "exhausted" | "stalled";
export const FAILURE_KINDS = ["permanent", "exhausted", "stalled"] as const satisfies readonly FailureKind[];

/** What Redis keeps of one issued credential: its handle and validity, never the secret. */
export interface Credential {
  id: string;
  taskId: string;
  agent: string;
  profile: string;
  provider: ProviderKind;
  state: CredentialState;
  /** Epoch ms. */
  createdAt: number;
  issuedAt: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
  ttlSeconds: number;
  scopes: string[];
  reason: string;
  /** Provider-serialised revocation handle (lease id, accessor, jti): never secret. */
  handle: string | null;
  downstreamAccount: string | null;
  lastError: string | null;
  revokeAttempts: number;
  revokeReason: string | null;
  /** Set while (and after) the credential is in revoke_failed. */
  failureKind: FailureKind | null;
  /** Scheduled retries of a revoke_failed credential so far (each waits twice as long as the last). */
  failedRetries: number;
  /** An operator's hand resolution of a revoke_failed credential, if any. */
  resolution: { by: string; at: number; reason: string } | null;
  policyIds: string[];
  policySetHash: string;
}
