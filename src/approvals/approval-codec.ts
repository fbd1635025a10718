import { z } from "zod";
import { identityFromId } from "../auth/human-identity.js";
import { storedFields } from "../shared/stored-fields.js";

import { APPROVAL_STATES, type Approval } from "./approval-types.js";

const { optionalNumber, optionalString, stringList } = storedFields;

const identitySchema = z.object({
  issuer: z.string(),
  subject: z.string(),
  email: z.string(),
  username: z.string(),
});

const stored = z.object({
  id: z.string(),
  task_id: z.string(),
  requester: z.string(),
  requester_identity: optionalString,
  profile: z.string(),
  provider: z.string(),
  scopes: stringList,
  ttl_seconds: optionalNumber,
  reason: z.string(),
  request_hash: z.string(),
  policy_set_hash: z.string(),
  policy_ids: stringList,
  created_at: z.coerce.number(),
  expires_at: z.coerce.number(),
  state: z.enum(APPROVAL_STATES),
  decided_by: optionalString,
  decided_at: optionalNumber,
  comment: optionalString,
  credential_id: optionalString,
  note: optionalString,
});

export function encodeApproval(approval: Approval): Record<string, string> {
  return {
    id: approval.id,
    task_id: approval.taskId,
    requester: approval.requester,
    requester_identity: JSON.stringify(approval.requesterIdentity),
    profile: approval.profile,
    provider: approval.provider,
    scopes: JSON.stringify(approval.scopes),
    ttl_seconds: approval.ttlSeconds === null ? "" : String(approval.ttlSeconds),
    reason: approval.reason,
    request_hash: approval.requestHash,
    policy_set_hash: approval.policySetHash,
    policy_ids: JSON.stringify(approval.policyIds),
    created_at: String(approval.createdAt),
    expires_at: String(approval.expiresAt),
    state: approval.state,
  };
}

export function decodeApproval(fields: Record<string, string>): Approval | null {
  if (!fields.id) return null;
  const raw = stored.parse(fields);
  return {
    id: raw.id,
    taskId: raw.task_id,
    requester: raw.requester,
    requesterIdentity: raw.requester_identity
      ? identitySchema.parse(JSON.parse(raw.requester_identity))
      : identityFromId(raw.requester),
    profile: raw.profile,
    provider: raw.provider,
    scopes: raw.scopes,
    ttlSeconds: raw.ttl_seconds,
    reason: raw.reason,
    requestHash: raw.request_hash,
    policySetHash: raw.policy_set_hash,
    policyIds: raw.policy_ids,
    createdAt: raw.created_at,
    expiresAt: raw.expires_at,
    state: raw.state,
    decidedBy: raw.decided_by,
    decidedAt: raw.decided_at,
    comment: raw.comment,
    credentialId: raw.credential_id,
    note: raw.note,
  };
}
