import type { Credential } from "../credentials/credential-types.js";
import { toIso } from "../shared/clock.js";
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
