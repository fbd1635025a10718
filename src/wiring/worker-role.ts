import { createApprovalNotifier } from "../approvals/approval-notifier.js";
import { startAuditSealing } from "../audit/audit-sealing.js";
import { createAuditVerifications } from "../audit/audit-verifications.js";
import { createEmergencyRun } from "../revocation/emergency-run.js";
import { createReconciler } from "../revocation/reconciler.js";
import { createRevocationRecordStore } from "../revocation/revocation-record-store.js";
import { type RevocationWorker, startRevocationWorker } from "../revocation/revocation-worker.js";
import { createRevokeCredential } from "../revocation/revoke-credential.js";
import { createSetDelivery } from "../signals/set-delivery.js";
import type { CoreServices } from "./core-services.js";
import type { Infrastructure } from "./infrastructure.js";

export interface WorkerRole {
  readonly worker: RevocationWorker;
  stop(): Promise<void>;
}

/** The worker role: revocation, deadline, reconcile, housekeeping and webhook jobs, and audit sealing. */
export function startWorkerRole(infra: Infrastructure, core: CoreServices): WorkerRole {
  const { config, tasks, credentials, audit, queue, clock, logger, metrics, registry } = infra;
  const revocation = config.revocation;
  const pendingGraceMs = revocation.pending_grace_seconds * 1000;
  const verifications = createAuditVerifications({
    redis: infra.redis,
    keyPrefix: infra.keyPrefix,
    clock,
    audit,
    checkpoints: infra.checkpoints,
  });
  const records = createRevocationRecordStore({ redis: infra.redis, keyPrefix: infra.keyPrefix });
  const revokeCredential = createRevokeCredential({
    credentials,
    providers: registry,
    closer: core.closer,
    audit,
    metrics,
    clock,
    logger,
    pendingGraceMs,
    failedRetryIntervalMs: revocation.failed_retry_interval_seconds * 1000,
    maxStalls: revocation.max_job_stalls,
  });
  const worker = startRevocationWorker({
    connection: infra.store.queueConnection,
    keyPrefix: infra.keyPrefix,
    concurrency: revocation.concurrency,
    attempts: revocation.attempts,
    reconcileIntervalMs: revocation.reconcile_interval_seconds * 1000,
    lockMs: revocation.job_lock_seconds * 1000,
    maxStalledCount: revocation.max_job_stalls + 2,
    revokeCredential,
    closeTree: core.closer.closeTree,
    emergencyRun: createEmergencyRun({
      records,
      tasks,
      credentials,
      closer: core.closer,
      revokeCredential,
      queue,
      stateOf: (refs) => credentials.statesOf(refs),
      attempts: revocation.attempts,
      logger,
    }),
    reconcile: createReconciler({
      tasks,
      credentials,
      closer: core.closer,
      queue,
      revocations: records,
      audit,
      clock,
      logger,
      pendingGraceMs,
      intervalMs: revocation.reconcile_interval_seconds * 1000,
    }),
    verifyAudit: (verificationId) => verifications.run(verificationId),
    notifyApproval: createApprovalNotifier({
      webhook: config.approvals.webhook,
      env: infra.env,
      store: infra.approvalStore,
      publicUrl: config.server.public_url,
      clock,
    }),
    deliverSignal: createSetDelivery({
      streams: infra.streams,
      polls: infra.polls,
      signer: infra.signer,
      metrics,
      clock,
      logger,
      timeoutMs: config.signals.delivery_timeout_ms,
    }),
    housekeeping: async () => {
      await Promise.all(registry.all().map((provider) => provider.housekeeping?.()));
    },
    queue,
    logger,
  });
  const stopSealing = startAuditSealing({
    redis: infra.redis,
    keyPrefix: infra.keyPrefix,
    checkpoints: infra.checkpoints,
    clock,
    logger,
    audit: config.audit,
  });
  return {
    worker,
    async stop() {
      stopSealing();
      await worker.close();
    },
  };
}
