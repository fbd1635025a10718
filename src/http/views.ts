import type { Approval } from "../approvals/approval-types.js";
import type { IssuedResult } from "../credentials/credential-issuer.js";
import type { Credential } from "../credentials/credential-types.js";
import { toIso } from "../shared/clock.js";
import {
  EVENTS_SUPPORTED,
  eventsDelivered,
  POLL_METHOD,
  PUSH_METHOD,
  type Stream,
} from "../signals/stream-types.js";
import type { TaskSummary } from "../tasks/task-details.js";
import type { Task } from "../tasks/task-types.js";

const iso = (ms: number | null): string | null => (ms === null ? null : toIso(ms));

/**
 * A credential as API.md shows it (never the secret). An active credential past its expiry shows as
 * `expired` before the reconciler records it.
 */
export function credentialView(credential: Credential, now: number) {
  const lapsed =
    credential.state === "active" && credential.expiresAt !== null && credential.expiresAt <= now;
  return {
    credential_id: credential.id,
    task_id: credential.taskId,
    profile: credential.profile,
    provider: credential.provider,
    state: lapsed ? "expired" : credential.state,
    issued_at: iso(credential.issuedAt),
    expires_at: iso(credential.expiresAt),
    revoked_at: iso(credential.revokedAt),
    ttl_seconds: credential.ttlSeconds,
    scopes: credential.scopes,
    downstream: { account: credential.downstreamAccount },
    last_error: credential.lastError,
    /** Why it is (or was) in revoke_failed: `permanent`, `exhausted` or `stalled`; null otherwise. */
    failure_kind: credential.failureKind,
    /** Who settled it by hand, when and why (state `resolved`); null otherwise. */
    resolution: credential.resolution
      ? {
          by: credential.resolution.by,
          at: toIso(credential.resolution.at),
          reason: credential.resolution.reason,
        }
      : null,
  };
}

/** The task object of API.md. */
export function taskView(task: Task, credentials: Credential[], children: string[], now: number) {
  return {
    task_id: task.id,
    state: task.state,
    owner: task.owner,
    agent: task.agent,
    initiator: task.initiator,
    intent: task.intent,
    labels: task.labels,
    parent_task_id: task.parentId,
    depth: task.depth,
    profiles: task.profiles,
    created_at: toIso(task.createdAt),
    deadline: toIso(task.deadline),
    closed_at: iso(task.closedAt),
    close_reason: task.closeReason,
    credentials: credentials.map((credential) => credentialView(credential, now)),
    children,
  };
}

/**
 * A task in the admin listing: the task object with its credentials counted per state instead of listed
 * (`live`: pending or active, as recorded; one past its expiry counts as live until it is marked expired).
 */
export function taskSummaryView(summary: TaskSummary, now: number) {
  const { credentials: _listed, ...task } = taskView(summary.task, [], summary.children, now);
  const total = Object.values(summary.counts).reduce((sum, n) => sum + n, 0);
  return { ...task, credential_counts: { ...summary.counts, total } };
}

/** The one-time credential answer (API.md `201`): the only place a secret is ever serialised. */
export function issuedView(issued: IssuedResult) {
  const { credential } = issued;
  return {
    credential_id: credential.id,
    task_id: credential.taskId,
    profile: credential.profile,
    provider: credential.provider,
    issued_at: iso(credential.issuedAt),
    expires_at: iso(credential.expiresAt),
    ttl_seconds: credential.ttlSeconds,
    scopes: credential.scopes,
    downstream: { account: credential.downstreamAccount },
    secret: issued.secret,
    notes: issued.notes,
  };
}

/** An approval as its requester and approvers see it (the credential only on the redeeming read). */
export function approvalView(approval: Approval, issued: IssuedResult | null) {
  const redeemed = approval.state === "issued" || approval.state === "issuing";
  return {
    approval_id: approval.id,
    state: redeemed ? "approved" : approval.state,
    task_id: approval.taskId,
    requester: approval.requester,
    profile: approval.profile,
    scopes: approval.scopes,
    ttl_seconds: approval.ttlSeconds,
    reason: approval.reason,
    policy_ids: approval.policyIds,
    created_at: toIso(approval.createdAt),
    expires_at: toIso(approval.expiresAt),
    decided_by: approval.decidedBy,
    decided_at: iso(approval.decidedAt),
    comment: approval.comment,
    credential_issued: redeemed,
    credential_id: approval.credentialId,
    note: approval.note,
    ...(issued ? { credential: issuedView(issued) } : {}),
  };
}

/** `POST /v1/tasks/{id}/task-token`: a fresh task token (docs/oauth.md). */
export function taskTokenView(task: Task, taskToken: { token: string; expiresAt: number }) {
  return { task_id: task.id, task_token: taskToken.token, expires_at: toIso(taskToken.expiresAt) };
}

/**
 * An SSF stream configuration (SSF 1.0 §8.1.1); `iss` is the broker's signer issuer. A poll stream's
 * `endpoint_url` is the broker's poll URL for it.
 */
export function streamView(stream: Stream, at: { issuer: string; pollUrl: (streamId: string) => string }) {
  return {
    stream_id: stream.id,
    iss: at.issuer,
    aud: stream.audiences.length === 1 ? stream.audiences[0] : stream.audiences,
    delivery:
      stream.method === "poll"
        ? { method: POLL_METHOD, endpoint_url: at.pollUrl(stream.id) }
        : { method: PUSH_METHOD, endpoint_url: stream.endpointUrl },
    events_supported: [...EVENTS_SUPPORTED],
    events_requested: stream.eventsRequested,
    events_delivered: eventsDelivered(stream),
    description: stream.description,
  };
}

/** An SSF stream status (§8.1.2), with the broker's delivery counters. */
export function streamStatusView(stream: Stream) {
  return {
    stream_id: stream.id,
    status: stream.status,
    ...(stream.statusReason ? { reason: stream.statusReason } : {}),
    delivery: {
      delivered: stream.delivered,
      failed_attempts: stream.failedAttempts,
      dropped: stream.dropped,
      last_delivered_at: iso(stream.lastDeliveredAt),
      last_error: stream.lastError,
      last_error_at: iso(stream.lastErrorAt),
    },
  };
}
