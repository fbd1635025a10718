/**
 * The one contract every credential provider implements. The broker knows profiles by name only; a
 * provider validates and keeps its own typed profiles (parsed from config with its own schema), so no
 * type is erased at this boundary and nothing is cast back.
 */

/** How a provider makes an issued credential stop working before it expires. */
export type RevocationSemantics =
  /** The upstream revokes for real (Vault leases and tokens). */
  | "revocable"
  /** The broker keeps a deny-list checked by introspection (signer JWTs). */
  | "deny-list"
  /** The upstream has no revoke API; the broker attaches a deny policy (AWS STS). */
  | "deny-policy";

/** Grows with each provider; the composition root keeps an exhaustive factory map over it. */
export const PROVIDER_KINDS = ["signer", "vault", "sts"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Everything a provider may bind into a credential. No secrets. */
export interface IssueRequest {
  credentialId: string;
  taskId: string;
  /** Principal id of the agent that will use the credential. */
  agent: string;
  owner: string;
  initiator: { subject: string; verified: boolean };
  profile: string;
  /** Already clamped by the broker to every bound it knows; the provider may clamp further. */
  ttlSeconds: number;
  scopes: string[];
  /** Epoch ms; no credential may be usable after it. */
  taskDeadline: number;
  /** Delegation chain, outermost first: the agents of the ancestor tasks. */
  actChain: string[];
  /** Sender constraint (RFC 9449 `cnf.jkt`): only token providers honour it (the signer). */
  confirmation?: { jkt: string };
}

export interface IssuedCredential {
  /**
   * What the broker stores to revoke later (lease id, accessor, jti, session): provider-serialised,
   * never secret. The provider parses it back itself in `revoke`.
   */
  handle: string;
  /** Epoch ms the upstream confirmed as the end of validity. */
  expiresAt: number;
  /** The identity the secret acts as downstream. */
  downstreamAccount: string;
  /** Returned to the caller once; never stored or logged. */
  secret: Record<string, unknown>;
  notes: string[];
}

export interface RevokeRequest {
  credentialId: string;
  /**
   * Null when the broker stopped between the provider's issue and recording the handle: the provider then
   * revokes whatever it can derive from `credentialId` (a jti, a session name, token metadata).
   */
  handle: string | null;
  /** Epoch ms; lets deny-lists and deny-policies expire with the credential. */
  expiresAt: number;
  /**
   * The credential's profile, when the caller knows it: without a handle it tells the provider what kind of
   * upstream object to look for (Vault: a token it can find by metadata, or a lease it cannot).
   */
  profile?: string;
  /**
   * Epoch ms the broker recorded the credential, just before asking the provider to issue it. Without a
   * handle it bounds when an unanswered issue call could still take effect upstream.
   */
  createdAt?: number;
}

export interface CredentialProvider {
  readonly kind: ProviderKind;
  readonly semantics: RevocationSemantics;
  /** Whether `profile` is one this provider was configured with. */
  hasProfile(profile: string): boolean;
  /** Provider-side TTL bounds for a profile, in seconds. */
  ttlBounds(profile: string): { min: number; max: number };
  /** Scopes a profile allows; an empty list means the profile takes no scopes. */
  allowedScopes(profile: string): readonly string[];
  issue(request: IssueRequest): Promise<IssuedCredential>;
  /**
   * Idempotent: an already-revoked or unknown credential is success. Throws
   * TransientProviderError (retry with backoff) or PermanentProviderError (stop: revoke_failed).
   * Resolves with an outcome only when the revocation did something the audit log must show.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: providers with nothing to report keep returning Promise<void>
  revoke(request: RevokeRequest): Promise<RevokeOutcome | void>;
  /**
   * Periodic upkeep the worker runs on a repeatable job (STS: prune deny entries of expired sessions).
   * Throws to have the failure logged; the next run tries again.
   */
  housekeeping?(): Promise<void>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/**
 * What a revocation did beyond "revoked", recorded in the `credential.revoked` audit event (e.g. STS's
 * role-wide cut-off, which also ends other sessions of the role).
 */
export interface RevokeOutcome {
  /** Ids, names and times only; never a secret. */
  auditDetails: Record<string, string | number | boolean>;
}
