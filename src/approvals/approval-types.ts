import type { HumanIdentity } from "../auth/human-identity.js";

/**
 * `pending → approved → issued`, or `denied | expired | cancelled`. An approval is bound to one exact
 * request (its hash) and the policy set it was raised under.
 */
export const APPROVAL_STATES = [
  "pending",
  "approved",
  "issuing",
  "issued",
  "denied",
  "expired",
  "cancelled",
] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

export interface Approval {
  id: string;
  taskId: string;
  /** Principal id of the agent that asked. */
  requester: string;
  /** The requester as a person (issuer, subject, e-mail, username), for the `Approve` policy. */
  requesterIdentity: HumanIdentity;
  profile: string;
  provider: string;
  scopes: string[];
  /** The TTL asked for; null when the request named none. */
  ttlSeconds: number | null;
  reason: string;
  /** SHA-256 of the canonical request (task, profile, sorted scopes, ttl, reason). */
  requestHash: string;
  policySetHash: string;
  policyIds: string[];
  createdAt: number;
  expiresAt: number;
  state: ApprovalState;
  decidedBy: string | null;
  decidedAt: number | null;
  comment: string | null;
  credentialId: string | null;
  /** Why it was cancelled or refused at redemption. */
  note: string | null;
}
