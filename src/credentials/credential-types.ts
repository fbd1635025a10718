import type { ProviderKind } from "../../providers/provider.js";

/**
 * `pending → active → revoking → revoked | expired | revoke_failed`; `failed` when the provider refused to
 * issue (nothing exists downstream).
 */
export type CredentialState =
  | "pending"
  | "active"
  | "revoking"
  | "revoked"
  | "expired"
  | "revoke_failed"
  | "failed";

export const CREDENTIAL_STATES = [
  "pending",
  "active",
  "revoking",
  "revoked",
  "expired",
  "revoke_failed",
  "failed",
] as const satisfies readonly CredentialState[];

/** `revoke_reason` of a credential whose issuance failed in a way that may hide an issued secret. */
export const UNCERTAIN_ISSUE = "issue_uncertain";

/** States after which nothing more happens to a credential (revoke_failed can still be retried). */
export const SETTLED_STATES: ReadonlySet<CredentialState> = new Set(["revoked", "expired", "failed"]);

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
  policyIds: string[];
  policySetHash: string;
}
