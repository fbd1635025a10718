import type { RevokeOutcome } from "../../providers/provider.js";
import { PermanentProviderError, TransientProviderError } from "../../providers/provider-errors.js";
import type { ProviderRegistry } from "../../providers/registry.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import { type Credential, type FailureKind, UNCERTAIN_ISSUE } from "../credentials/credential-types.js";
import type { BrokerMetrics } from "../metrics/broker-metrics.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { TaskCloser } from "./task-closer.js";

export interface RevokeAttempt {
  /** Attempts already made before this one. */
  made: number;
  max: number;
  /** How many times a worker died while holding this job (BullMQ's stalled counter). */
  stalls: number;
}

/** A scheduled retry of a revoke_failed credential waits `base · 2^retries`, at most a day. */
export function nextRetryAt(now: number, baseMs: number, retries: number): number {
  return now + Math.min(baseMs * 2 ** Math.min(retries, 20), 86_400_000);
}

export const WORKER_ACTOR = "system:worker";

/**
 * Processes one revocation job. Resolves when the credential is settled (revoked, or revoke_failed after the
 * last attempt or a permanent error); throws to make the queue retry with backoff.
 */
export type RevokeCredential = (
  ref: { credentialId: string; taskId: string },
  attempt: RevokeAttempt,
  bulk?: BulkRevoke,
) => Promise<void>;

/** How an emergency run calls the step for many credentials at once. */
export interface BulkRevoke {
  /** The record as the caller just moved it to `revoking` (saves reading it again). */
  credential: Credential;
  /** The caller completes the tasks itself once its batch is done (saves one read per credential). */
  skipTaskCompletion: true;
}

export function createRevokeCredential(deps: {
  credentials: Pick<CredentialStore, "getInTask" | "transition">;
  providers: ProviderRegistry;
  closer: Pick<TaskCloser, "completeIfSettled">;
  audit: Pick<AuditLog, "append">;
  metrics: Pick<BrokerMetrics, "revocations">;
  clock: Clock;
  logger: Logger;
  pendingGraceMs: number;
  /** First wait before a scheduled retry of an exhausted revocation (`failed_retry_interval_seconds`). */
  failedRetryIntervalMs: number;
  /** A job whose workers died this many times is not run again: the credential goes to revoke_failed. */
  maxStalls: number;
}): RevokeCredential {
  const { credentials, audit, clock } = deps;

  async function markFailed(
    credential: Credential,
    message: string,
    attempts: number,
    kind: FailureKind,
  ): Promise<void> {
    const retryAt = nextRetryAt(clock.now(), deps.failedRetryIntervalMs, credential.failedRetries);
    const result = await credentials.transition(credential, ["revoking"], "revoke_failed", {
      last_error: message,
      revoke_attempts: String(attempts),
      failure_kind: kind,
      // Permanent errors are not retried by themselves: an operator retries or resolves them.
      ...(kind === "permanent" ? {} : { retry_at: String(retryAt) }),
    });
    if (!result.moved) return;
    deps.metrics.revocations.inc({ outcome: "revoke_failed", provider: credential.provider });
    deps.logger.error(
      { credential_id: credential.id, task_id: credential.taskId, error: message, failure_kind: kind },
      "revocation failed",
    );
    await audit.append({
      type: "credential.revoke_failed",
      actor: WORKER_ACTOR,
      task_id: credential.taskId,
      credential_id: credential.id,
      reason: message,
      details: { attempts, failure_kind: kind },
    });
  }

  async function markRevoked(
    credential: Credential,
    outcome: RevokeOutcome | undefined,
    completeTask: boolean,
  ): Promise<void> {
    const result = await credentials.transition(credential, ["revoking"], "revoked", {
      revoked_at: String(clock.now()),
      last_error: "",
    });
    if (!result.moved) return;
    deps.metrics.revocations.inc({ outcome: "revoked", provider: credential.provider });
    await audit.append({
      type: "credential.revoked",
      actor: WORKER_ACTOR,
      task_id: credential.taskId,
      credential_id: credential.id,
      reason: credential.revokeReason,
      ...(outcome ? { details: outcome.auditDetails } : {}),
    });
    if (completeTask) await deps.closer.completeIfSettled(credential.taskId, WORKER_ACTOR);
  }

  async function callProvider(credential: Credential): Promise<RevokeOutcome | undefined> {
    const provider = deps.providers.byKind(credential.provider);
    if (!provider) throw new PermanentProviderError(`provider ${credential.provider} is not configured`);
    const issuanceMayStillFinish = credential.revokeReason !== UNCERTAIN_ISSUE;
    const young = clock.now() - credential.createdAt < deps.pendingGraceMs;
    if (credential.handle === null && issuanceMayStillFinish && young) {
      throw new TransientProviderError("issuance still in progress; waiting for its handle");
    }
    const outcome = await provider.revoke({
      credentialId: credential.id,
      handle: credential.handle,
      expiresAt: credential.expiresAt ?? credential.createdAt + credential.ttlSeconds * 1000,
      profile: credential.profile,
      createdAt: credential.createdAt,
    });
    return outcome ?? undefined;
  }

  return async (ref, attempt, bulk) => {
    const credential = bulk?.credential ?? (await credentials.getInTask(ref.taskId, ref.credentialId));
    if (!credential || credential.state !== "revoking") return;
    if (attempt.stalls >= deps.maxStalls) {
      const message = `the workers revoking it died ${attempt.stalls} times (see the worker logs); not run again`;
      await markFailed(credential, message, attempt.made, "stalled");
      return;
    }
    let outcome: RevokeOutcome | undefined;
    try {
      outcome = await callProvider(credential);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const attempts = attempt.made + 1;
      const permanent = err instanceof PermanentProviderError;
      if (permanent || attempts >= attempt.max) {
        await markFailed(credential, message, attempts, permanent ? "permanent" : "exhausted");
        return;
      }
      deps.metrics.revocations.inc({ outcome: "retry", provider: credential.provider });
      await credentials.transition(credential, ["revoking"], "revoking", {
        last_error: message,
        revoke_attempts: String(attempts),
      });
      throw err;
    }
    await markRevoked(credential, outcome, bulk === undefined);
  };
}
