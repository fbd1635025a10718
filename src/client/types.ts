/** Times are RFC 3339 strings in UTC, as the broker sends them; durations are whole seconds. */

/** The human on whose behalf a task runs. */
export interface Initiator {
  subject: string;
  /** The user's OIDC ID token; the broker verifies it and marks the initiator `verified`. */
  token?: string;
}

/** `broker.openTask(…)`. */
export interface OpenTaskOptions {
  /** What the task is for, in words a reviewer understands (1–2000 characters). */
  intent: string;
  /** Lifetime; no credential of the task outlives it. */
  ttlSeconds: number;
  /** A subject (`"alice@example.com"`) or a subject with its ID token. */
  initiator?: string | Initiator;
  /** Principal id of the agent that will use the task; default: the caller. */
  agent?: string;
  /** Profiles the task may use; default: any the policy allows. */
  profiles?: string[];
  /** Up to 32 string pairs, e.g. `{ ticket: "INC-42" }`. */
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

/** `task.delegate(…)`: a child task for another agent, never wider than its parent. */
export interface DelegateOptions {
  /** Principal id of the child's agent. */
  agent: string;
  /** A subset of the parent's profiles. */
  profiles?: string[];
  /** At most the parent's remaining lifetime. */
  ttlSeconds: number;
  /** Default: the parent's intent. */
  intent?: string;
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

/** `task.credential(profile, …)`. */
export interface CredentialRequestOptions {
  /** Asked TTL; the broker grants at most the profile's, the policy's and the task's remaining time. */
  ttlSeconds?: number;
  scopes?: string[];
  /** The model action this credential serves; recorded in the audit log. */
  reason?: string;
  signal?: AbortSignal;
}

/** A credential of a task, as the task object lists it (never the secret). */
export interface CredentialSummary {
  credentialId: string;
  profile: string;
  provider: string;
  /** `pending`, `active`, `revoking`, `revoked`, `expired`, `revoke_failed` or `failed`. */
  state: string;
  issuedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** The task object of the API. */
export interface TaskInfo {
  taskId: string;
  /** `open`, `closing` or `closed`. */
  state: string;
  owner: string;
  agent: string;
  initiator: { subject: string; verified: boolean } | null;
  intent: string;
  labels: Record<string, string>;
  parentTaskId: string | null;
  depth: number;
  profiles: string[];
  createdAt: string;
  deadline: string;
  closedAt: string | null;
  /** `closed`, `deadline`, `revoked` or `parent_closed`. */
  closeReason: string | null;
  credentials: CredentialSummary[];
  children: string[];
  /**
   * The task token (`typ: txntoken+jwt`) that `POST /v1/tasks` answers to the task's opener, null on later
   * reads: hand it to an OAuth or MCP client as the task's workload credential (docs/oauth.md).
   */
  taskToken: string | null;
}

/**
 * The provider-specific secret, with the API's field names: signer `{token, token_type}`, Vault dynamic
 * secret `{lease_id, data}`, Vault token `{token, accessor}`, STS `{access_key_id, secret_access_key,
 * session_token, expiration}`.
 */
export interface CredentialSecret {
  readonly token?: string;
  readonly token_type?: string;
  readonly lease_id?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly accessor?: string;
  readonly access_key_id?: string;
  readonly secret_access_key?: string;
  readonly session_token?: string;
  readonly expiration?: string;
  readonly [field: string]: unknown;
}

/**
 * An issued credential. `secret` is returned once by the broker and never stored by it; on this object it
 * is not enumerable, so logging or `JSON.stringify`-ing the credential does not print the secret.
 */
export interface IssuedCredential {
  readonly kind: "credential";
  readonly credentialId: string;
  readonly taskId: string;
  readonly profile: string;
  readonly provider: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly ttlSeconds: number;
  readonly scopes: string[];
  /** The identity the secret acts as downstream. */
  readonly downstream: { account: string | null };
  readonly secret: CredentialSecret;
  /** E.g. STS's 900 s floor: the broker then relies on revocation. */
  readonly notes: string[];
}

/** An approval as the API shows it to its requester and approvers. */
export interface ApprovalInfo {
  approvalId: string;
  /** `pending`, `approved`, `denied`, `expired` or `cancelled`. */
  state: string;
  taskId: string;
  requester: string;
  profile: string;
  scopes: string[];
  ttlSeconds: number | null;
  reason: string;
  policyIds: string[];
  createdAt: string;
  expiresAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  comment: string | null;
  credentialIssued: boolean;
  credentialId: string | null;
  note: string | null;
}
