import type { CredentialProvider, IssuedCredential } from "../../providers/provider.js";
import { PermanentProviderError } from "../../providers/provider-errors.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { HandleHasher } from "../audit/handle-hash.js";
import type { Principal } from "../auth/principal.js";
import type { BrokerMetrics } from "../metrics/broker-metrics.js";
import type { Decision } from "../policy/policy-types.js";
import type { RevocationQueue } from "../revocation/revocation-queue.js";
import type { Clock } from "../shared/clock.js";
import { BrokerError } from "../shared/errors.js";
import { newId } from "../shared/ids.js";
import type { Logger } from "../shared/logger.js";
import type { Task } from "../tasks/task-types.js";
import type { CredentialStore } from "./credential-store.js";
import { type Credential, UNCERTAIN_ISSUE } from "./credential-types.js";
import { grantTtl } from "./granted-ttl.js";
import type { UnrecordedCredentials } from "./unrecorded-credentials.js";

export interface CredentialRequest {
  profile: string;
  ttlSeconds?: number;
  scopes?: string[];
  reason?: string;
  /** Actors after the task's delegation chain in the `act` claim (RFC 8693 token exchange), outermost first. */
  actors?: string[];
  /** Binds the token to a DPoP key (RFC 9449 `cnf.jkt`); signer profiles only. */
  confirmation?: { jkt: string };
}

export interface IssuedResult {
  credential: Credential;
  secret: Record<string, unknown>;
  notes: string[];
}

export interface CredentialIssuerDeps {
  credentials: CredentialStore;
  queue: Pick<RevocationQueue, "enqueueRevocations">;
  audit: Pick<AuditLog, "append">;
  hashHandle: HandleHasher;
  metrics: Pick<BrokerMetrics, "credentialsIssued" | "issuanceSeconds">;
  clock: Clock;
  logger: Logger;
  /** Takes over what the provider issued when Redis fails before it is recorded. */
  unrecorded: Pick<UnrecordedCredentials, "adopt" | "abandon">;
}

/**
 * Issues an allowed request in the order DESIGN guarantee 3 fixes: record `pending` (only if the task is
 * open) → provider → activate with the handle. Provider failures and a task closed mid-issue leave nothing
 * usable behind.
 */
export function createCredentialIssuer(deps: CredentialIssuerDeps) {
  const { credentials, audit, clock } = deps;

  function draftCredential(
    task: Task,
    provider: CredentialProvider,
    request: CredentialRequest,
    decision: Decision,
  ) {
    const now = clock.now();
    const granted = grantTtl({
      requestedSeconds: request.ttlSeconds,
      providerBounds: provider.ttlBounds(request.profile),
      policyMaxSeconds: decision.effect === "allow" ? decision.maxTtlSeconds : undefined,
      taskRemainingSeconds: Math.floor((task.deadline - now) / 1000),
    });
    if (granted.seconds < 1) throw new BrokerError("task_not_open", "The task has less than a second left.");
    const credential: Credential = {
      id: newId("crd"),
      taskId: task.id,
      agent: task.agent,
      profile: request.profile,
      provider: provider.kind,
      state: "pending",
      createdAt: now,
      issuedAt: null,
      expiresAt: null,
      revokedAt: null,
      ttlSeconds: granted.seconds,
      scopes: request.scopes ?? [],
      reason: request.reason ?? "",
      handle: null,
      downstreamAccount: null,
      lastError: null,
      revokeAttempts: 0,
      revokeReason: null,
      failureKind: null,
      failedRetries: 0,
      resolution: null,
      policyIds: decision.policyIds,
      policySetHash: decision.policySetHash,
    };
    return { credential, notes: granted.notes };
  }

  async function callProvider(
    provider: CredentialProvider,
    task: Task,
    credential: Credential,
    extra: Pick<CredentialRequest, "actors" | "confirmation"> = {},
  ): Promise<IssuedCredential> {
    try {
      return await provider.issue({
        credentialId: credential.id,
        taskId: task.id,
        agent: task.agent,
        owner: task.owner,
        initiator: task.initiator,
        profile: credential.profile,
        ttlSeconds: credential.ttlSeconds,
        scopes: credential.scopes,
        taskDeadline: task.deadline,
        actChain: [...task.actChain, ...(extra.actors ?? [])],
        ...(extra.confirmation ? { confirmation: extra.confirmation } : {}),
      });
    } catch (cause) {
      await recordIssueFailure(provider, credential, cause);
      // A task in its last second can run out while the provider works: that is the deadline, not the
      // provider failing (the signer, for one, refuses a token with no lifetime left).
      if (task.deadline - clock.now() < 1000) {
        throw new BrokerError(
          "task_not_open",
          "The task reached its deadline while the credential was issued.",
          {
            cause,
          },
        );
      }
      throw new BrokerError(
        "provider_error",
        `The ${provider.kind} provider could not issue the credential.`,
        {
          cause,
          details: { provider: provider.kind },
        },
      );
    }
  }

  /**
   * A permanent refusal means nothing exists downstream: the credential is `failed`. Any other failure (a
   * timeout, a 5xx, a dropped connection) may hide a credential the upstream did issue, so it is revoked
   * defensively from what the credential id identifies.
   */
  async function recordIssueFailure(
    provider: CredentialProvider,
    credential: Credential,
    cause: unknown,
  ): Promise<void> {
    const message = cause instanceof Error ? cause.message : String(cause);
    const certain = cause instanceof PermanentProviderError;
    deps.logger.warn(
      { credential_id: credential.id, provider: provider.kind, error: message },
      "issuance failed",
    );
    if (certain) {
      await credentials.transition(credential, ["pending", "revoking"], "failed", { last_error: message });
    } else {
      await credentials.transition(credential, ["pending"], "revoking", {
        last_error: message,
        revoke_reason: UNCERTAIN_ISSUE,
      });
      await deps.queue.enqueueRevocations([{ id: credential.id, taskId: credential.taskId }]);
    }
    await audit.append({
      type: "credential.issue_failed",
      actor: "system:broker",
      task_id: credential.taskId,
      credential_id: credential.id,
      reason: message,
      details: { outcome: certain ? "not_issued" : "revoking_in_case_issued" },
    });
  }

  /** After the provider issued: activate, or revoke at once if the task closed meanwhile. */
  async function activate(
    principal: Principal,
    credential: Credential,
    issued: IssuedCredential,
  ): Promise<Credential> {
    const issuedAt = clock.now();
    const state = await credentials.activate(credential, {
      handle: issued.handle,
      expiresAt: issued.expiresAt,
      downstreamAccount: issued.downstreamAccount,
      issuedAt,
    });
    const active = {
      ...credential,
      state: state ?? credential.state,
      handle: issued.handle,
      issuedAt,
      expiresAt: issued.expiresAt,
      downstreamAccount: issued.downstreamAccount,
    };
    if (state !== "active") {
      await deps.queue.enqueueRevocations([{ id: credential.id, taskId: credential.taskId }]);
      throw new BrokerError(
        "task_not_open",
        "The task closed while the credential was issued; it was revoked.",
      );
    }
    try {
      await audit.append({
        type: "credential.issued",
        actor: principal.id,
        task_id: credential.taskId,
        credential_id: credential.id,
        details: {
          profile: credential.profile,
          provider: credential.provider,
          ttl_seconds: credential.ttlSeconds,
          expires_at: issued.expiresAt,
          downstream_account: issued.downstreamAccount,
          handle: deps.hashHandle(issued.handle),
          scopes: credential.scopes,
          policy_ids: credential.policyIds,
          reason: credential.reason,
        },
      });
    } catch (cause) {
      await credentials.transition(active, ["active"], "revoking", { revoke_reason: "audit_unavailable" });
      await deps.queue.enqueueRevocations([{ id: credential.id, taskId: credential.taskId }]);
      throw cause;
    }
    return active;
  }

  return async function issue(
    principal: Principal,
    task: Task,
    provider: CredentialProvider,
    input: CredentialRequest,
    decision: Decision,
  ): Promise<IssuedResult> {
    const started = performance.now();
    const { credential, notes } = draftCredential(task, provider, input, decision);
    const created = await credentials.createPending(credential, clock.now()).catch((err: unknown) => {
      deps.unrecorded.abandon(credential, provider);
      throw err;
    });
    if (created !== "ok") throw new BrokerError("task_not_open", "The task is no longer open.");
    const issued = await callProvider(provider, task, credential, input);
    const active = await activate(principal, credential, issued).catch((err: unknown) => {
      // The task closed meanwhile and its revocation is queued: nothing more to do. Anything else is the
      // store failing with a live upstream credential in hand, which must not be dropped.
      if (!(err instanceof BrokerError && err.code === "task_not_open")) {
        deps.unrecorded.adopt(credential, issued, provider);
      }
      throw err;
    });
    deps.metrics.credentialsIssued.inc({ provider: provider.kind });
    deps.metrics.issuanceSeconds.observe({ provider: provider.kind }, (performance.now() - started) / 1000);
    return { credential: active, secret: issued.secret, notes: [...notes, ...issued.notes] };
  };
}

export type IssueCredential = ReturnType<typeof createCredentialIssuer>;
