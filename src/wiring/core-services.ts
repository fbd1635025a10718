import path from "node:path";
import { createApprovalService } from "../approvals/approval-service.js";
import { createHandleHasher } from "../audit/handle-hash.js";
import { readAuditHmacKey } from "../audit/hmac-key.js";
import { createAssertionVerifier } from "../auth/assertion-verifier.js";
import { createRedisReplayGuard } from "../auth/replay-guard.js";
import { createCredentialIssuer } from "../credentials/credential-issuer.js";
import { createCredentialService } from "../credentials/credential-service.js";
import { createUnrecordedCredentials } from "../credentials/unrecorded-credentials.js";
import { createDecider } from "../policy/decider.js";
import { createQuotas } from "../quotas/quotas.js";
import { createTaskCloser } from "../revocation/task-closer.js";
import { createSignalEmitter } from "../signals/signal-emitter.js";
import type { Infrastructure } from "./infrastructure.js";

/** Services both roles use: the decider, issuance, approvals, the closer and the assertion verifier. */
export function buildCoreServices(infra: Infrastructure, fetchImpl: typeof fetch | undefined) {
  const { config, tasks, credentials, audit, queue, clock, logger, metrics, policy } = infra;
  const decide = createDecider({ policy, audit });
  const quotas = createQuotas({
    limits: config.limits,
    tasks,
    credentials,
    approvals: infra.approvalStore,
    now: () => clock.now(),
    onExceeded: (limit) => metrics.quotaRejections.inc({ limit }),
  });
  const unrecorded = createUnrecordedCredentials({ credentials, queue, audit, metrics, clock, logger });
  const issue = createCredentialIssuer({
    credentials,
    queue,
    audit,
    hashHandle: createHandleHasher(readAuditHmacKey(config.audit.hmac_key_env, infra.env, logger)),
    metrics,
    clock,
    logger,
    unrecorded,
  });
  const credentialService = createCredentialService({
    tasks,
    providers: infra.registry,
    decide,
    issue,
    quotas,
    clock,
  });
  const approvals = createApprovalService({
    store: infra.approvalStore,
    tasks,
    redeem: credentialService.redeem,
    decide,
    audit,
    clock,
    ttlSeconds: config.approvals.ttl_seconds,
    policySetHash: () => policy.info().hash,
    quotas,
    notify: async (approval) => {
      if (config.approvals.webhook) await queue.enqueueApprovalWebhook(approval.id);
    },
  });
  const signals = createSignalEmitter({
    streams: infra.streams,
    queue,
    audienceOf: (name) => {
      const profile = Object.hasOwn(config.profiles, name) ? config.profiles[name] : undefined;
      return profile?.provider === "signer" ? profile.audience : undefined;
    },
    issuer: infra.signer.issuer,
    clock,
    logger,
  });
  const closer = createTaskCloser({
    tasks,
    credentials,
    queue,
    audit,
    clock,
    onClosing: (taskId, actor) => approvals.cancelForTask(taskId, actor),
    onRevoking: (task, all, moved) => signals.taskClosing(task, all, moved),
  });
  const verifier = createAssertionVerifier({
    // A relative ca_file is read from the config's directory.
    issuers: config.issuers.map((issuer) =>
      issuer.ca_file ? { ...issuer, ca_file: path.resolve(infra.configDir, issuer.ca_file) } : issuer,
    ),
    defaultAudience: config.server.audience,
    clock,
    replayGuard: createRedisReplayGuard({ redis: infra.redis, keyPrefix: infra.keyPrefix, clock }),
    fetch: fetchImpl,
    logger,
  });
  return { decide, quotas, unrecorded, credentialService, approvals, closer, verifier, signals };
}

export type CoreServices = ReturnType<typeof buildCoreServices>;
