import { z } from "zod";
import { PROVIDER_KINDS } from "../../providers/provider.js";
import { storedFields } from "../shared/stored-fields.js";
import { CREDENTIAL_STATES, type Credential, FAILURE_KINDS } from "./credential-types.js";

const { optionalNumber, optionalString, stringList } = storedFields;

const storedCredential = z.object({
  id: z.string(),
  task_id: z.string(),
  agent: z.string(),
  profile: z.string(),
  provider: z.enum(PROVIDER_KINDS),
  state: z.enum(CREDENTIAL_STATES),
  created_at: z.coerce.number(),
  issued_at: optionalNumber,
  expires_at: optionalNumber,
  revoked_at: optionalNumber,
  ttl_seconds: z.coerce.number().int(),
  scopes: stringList,
  reason: z.string(),
  handle: optionalString,
  downstream_account: optionalString,
  last_error: optionalString,
  revoke_attempts: z.coerce.number().int().default(0),
  revoke_reason: optionalString,
  failure_kind: z.enum(FAILURE_KINDS).optional(),
  failed_retries: z.coerce.number().int().default(0),
  resolved_by: optionalString,
  resolved_at: optionalNumber,
  resolve_reason: optionalString,
  policy_ids: stringList,
  policy_set_hash: z.string(),
});

/** The hash fields written when a credential is first recorded (state pending). */
export function encodeNewCredential(credential: Credential): string[] {
  return [
    "id",
    credential.id,
    "task_id",
    credential.taskId,
    "agent",
    credential.agent,
    "profile",
    credential.profile,
    "provider",
    credential.provider,
    "state",
    credential.state,
    "created_at",
    String(credential.createdAt),
    "ttl_seconds",
    String(credential.ttlSeconds),
    "scopes",
    JSON.stringify(credential.scopes),
    "reason",
    credential.reason,
    "revoke_attempts",
    "0",
    "policy_ids",
    JSON.stringify(credential.policyIds),
    "policy_set_hash",
    credential.policySetHash,
  ];
}

export function decodeCredential(fields: Record<string, string>): Credential | null {
  if (!fields.id) return null;
  const raw = storedCredential.parse(fields);
  return {
    id: raw.id,
    taskId: raw.task_id,
    agent: raw.agent,
    profile: raw.profile,
    provider: raw.provider,
    state: raw.state,
    createdAt: raw.created_at,
    issuedAt: raw.issued_at,
    expiresAt: raw.expires_at,
    revokedAt: raw.revoked_at,
    ttlSeconds: raw.ttl_seconds,
    scopes: raw.scopes,
    reason: raw.reason,
    handle: raw.handle,
    downstreamAccount: raw.downstream_account,
    lastError: raw.last_error,
    revokeAttempts: raw.revoke_attempts,
    revokeReason: raw.revoke_reason,
    failureKind: raw.failure_kind ?? null,
    failedRetries: raw.failed_retries,
    resolution:
      raw.resolved_by !== null && raw.resolved_at !== null
        ? { by: raw.resolved_by, at: raw.resolved_at, reason: raw.resolve_reason ?? "" }
        : null,
    policyIds: raw.policy_ids,
    policySetHash: raw.policy_set_hash,
  };
}
