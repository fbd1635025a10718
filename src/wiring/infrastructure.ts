import type { CredentialProvider } from "../../providers/provider.js";
import { createProviderRegistry, type ProviderRegistry } from "../../providers/registry.js";
import { createApprovalStore } from "../approvals/approval-store.js";
import { createAuditCheckpoints } from "../audit/audit-checkpoints.js";
import { createAuditLog } from "../audit/audit-log.js";
import type { BrokerConfig } from "../config/config-schema.js";
import { createCredentialStore } from "../credentials/credential-store.js";
import { brokerReadiness } from "../health/broker-readiness.js";
import { openStoreConnections } from "../health/store-connections.js";
import { createBrokerMetrics } from "../metrics/broker-metrics.js";
import { withAuditedReloads } from "../policy/audited-reloads.js";
import { createPolicyEngine } from "../policy/policy-engine.js";
import { buildProviders } from "../providers-setup/build-providers.js";
import { createRevocationQueue } from "../revocation/revocation-queue.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { watchEvictionPolicy } from "../shared/redis-eviction.js";
import { createPollStore } from "../signals/poll-store.js";
import { createStreamStore } from "../signals/stream-store.js";
import { createTaskStore } from "../tasks/task-store.js";

/** What every role needs before any service exists. */
export interface InfrastructureOptions {
  config: BrokerConfig;
  configDir: string;
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  logger: Logger;
  decorateProviders?: (providers: CredentialProvider[]) => CredentialProvider[];
}

/**
 * Redis (watched, refused if it may evict) → providers → policy → stores, audit log, checkpoints, queue,
 * metrics and readiness. Nothing here decides or issues anything.
 */
export async function buildInfrastructure(options: InfrastructureOptions) {
  const { config, clock, logger, env } = options;
  const keyPrefix = config.redis.key_prefix;
  const store = await openStoreConnections(config.redis, env, logger);
  const { redis } = store;
  const providers = await buildProviders({ config, configDir: options.configDir, redis, clock, env, logger });
  const registry: ProviderRegistry = createProviderRegistry(
    options.decorateProviders?.(providers.all) ?? providers.all,
  );
  const audit = createAuditLog({ redis, keyPrefix, clock });
  const engine = createPolicyEngine({
    files: config.policy.files,
    baseDir: options.configDir,
    logger,
    clock,
    decisionCacheSize: config.policy.decision_cache_size,
  });
  const policy = withAuditedReloads(engine, audit, logger);
  const credentials = createCredentialStore({ redis, keyPrefix, now: () => clock.now() });
  const queue = createRevocationQueue({
    connection: store.queueConnection,
    keyPrefix,
    options: {
      attempts: config.revocation.attempts,
      backoffMs: config.revocation.backoff_ms,
      reconcileIntervalMs: config.revocation.reconcile_interval_seconds * 1000,
      signalAttempts: config.signals.delivery_attempts,
      signalBackoffMs: config.signals.delivery_backoff_ms,
    },
  });
  const metrics = createBrokerMetrics();
  metrics.observeGauges({
    queueDepth: () => queue.depth(),
    revokeFailed: () => credentials.failedCount(),
    decisionCache: () => engine.cacheStats(),
  });
  const eviction = watchEvictionPolicy({
    redis,
    target: store.target,
    intervalMs: config.redis.eviction_check_seconds * 1000,
    logger,
    onChange: (safe) => metrics.redisEvictionSafe.set(safe ? 1 : 0),
  });
  return {
    ...options,
    keyPrefix,
    store,
    redis,
    signer: providers.signer,
    registry,
    policy,
    audit,
    tasks: createTaskStore({ redis, keyPrefix }),
    credentials,
    approvalStore: createApprovalStore({
      redis,
      keyPrefix,
      retentionSeconds: config.approvals.retention_days * 86_400,
    }),
    checkpoints: createAuditCheckpoints({
      redis,
      keyPrefix,
      clock,
      signer: providers.signer.documents,
      publishedKeys: () => providers.signer.jwks(),
    }),
    streams: createStreamStore({ redis, keyPrefix }),
    polls: createPollStore({ redis, keyPrefix, cap: config.signals.poll_max_held }),
    queue,
    metrics,
    eviction,
    readiness: brokerReadiness({ store, queue, policy, eviction }),
  };
}

export type Infrastructure = Awaited<ReturnType<typeof buildInfrastructure>>;
