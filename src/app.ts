import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express, Router } from "express";
import type { CredentialProvider } from "../providers/provider.js";
import { createProviderRegistry } from "../providers/registry.js";
import type { SignerProvider } from "../providers/signer/signer-provider.js";
import { createApprovalService } from "./approvals/approval-service.js";
import { type ApprovalStore, createApprovalStore } from "./approvals/approval-store.js";
import { createApprovalWebhook } from "./approvals/approval-webhook.js";
import { type AuditCheckpoints, createAuditCheckpoints } from "./audit/audit-checkpoints.js";
import { type AuditLog, createAuditLog } from "./audit/audit-log.js";
import { createAuditSealer } from "./audit/audit-sealer.js";
import type { JsonValue } from "./audit/canonical-json.js";
import { createHandleHasher } from "./audit/handle-hash.js";
import { createAssertionVerifier } from "./auth/assertion-verifier.js";
import { createRedisReplayGuard } from "./auth/replay-guard.js";
import type { BrokerConfig } from "./config/config-schema.js";
import { createCredentialIssuer } from "./credentials/credential-issuer.js";
import { createCredentialService } from "./credentials/credential-service.js";
import { createCredentialStore } from "./credentials/credential-store.js";
import { createUnrecordedCredentials } from "./credentials/unrecorded-credentials.js";
import { brokerReadiness } from "./health/broker-readiness.js";
import { type HealthServer, startHealthServer } from "./health/health-server.js";
import { openStoreConnections } from "./health/store-connections.js";
import { createAuthenticate } from "./http/authenticate.js";
import { createHttpApp } from "./http/http-app.js";
import { createRateLimit } from "./http/rate-limit.js";
import { adminRoutes } from "./http/routes/admin-routes.js";
import { approvalRoutes } from "./http/routes/approval-routes.js";
import { auditRoutes } from "./http/routes/audit-routes.js";
import { evidenceRoutes } from "./http/routes/evidence-routes.js";
import { healthRoutes } from "./http/routes/health-routes.js";
import { introspectRoute, jwksRoute } from "./http/routes/signer-routes.js";
import { taskRoutes } from "./http/routes/task-routes.js";
import { createBrokerMetrics } from "./metrics/broker-metrics.js";
import { createDecider } from "./policy/decider.js";
import { createPolicyEngine, type PolicyEngine } from "./policy/policy-engine.js";
import { buildProviders } from "./providers-setup/build-providers.js";
import { createEmergencyRevocation } from "./revocation/emergency-revocation.js";
import { createReconciler } from "./revocation/reconciler.js";
import { createResolveCredential } from "./revocation/resolve-credential.js";
import { createRetryRevocation } from "./revocation/retry-revocation.js";
import { createRevocationQueue } from "./revocation/revocation-queue.js";
import { type RevocationWorker, startRevocationWorker } from "./revocation/revocation-worker.js";
import { createRevokeCredential } from "./revocation/revoke-credential.js";
import { createTaskCloser } from "./revocation/task-closer.js";
import { type Clock, systemClock } from "./shared/clock.js";
import { createLogger, type Logger } from "./shared/logger.js";
import type { RedisClient } from "./shared/redis.js";
import { watchEvictionPolicy } from "./shared/redis-eviction.js";
import { within } from "./shared/within.js";
import { createTaskService } from "./tasks/task-service.js";
import { createTaskStore } from "./tasks/task-store.js";

export type BrokerRole = "all" | "api" | "worker";

export interface BrokerOptions {
  config: BrokerConfig;
  /** Directory relative paths in the config (policy files, key files) are resolved from. */
  configDir: string;
  role?: BrokerRole;
  logger?: Logger;
  clock?: Clock;
  env?: Readonly<Record<string, string | undefined>>;
  /** Used for JWKS and discovery fetches (tests inject nothing; the global fetch is used). */
  fetch?: typeof fetch;
  /** Wraps providers before use; tests inject upstream faults this way. */
  decorateProviders?: (providers: CredentialProvider[]) => CredentialProvider[];
  /** Extra unauthenticated routes (dev mode mounts its OIDC issuer here). */
  extraPublicRoutes?: Router[];
}

export interface Broker {
  readonly app: Express | null;
  readonly config: BrokerConfig;
  readonly signer: SignerProvider;
  readonly policy: PolicyEngine;
  readonly audit: AuditLog;
  readonly worker: RevocationWorker | null;
  readonly redis: RedisClient;
  /**
   * Starts the HTTP server (api and all roles: `server.port`; the worker role: its health and metrics
   * listener on `server.worker_port`); resolves with the bound port.
   */
  listen(port?: number, host?: string): Promise<number>;
  /** Graceful stop: HTTP first, then the worker, then Redis. */
  close(): Promise<void>;
}

function auditHmacKey(
  config: BrokerConfig,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Buffer {
  const raw = env[config.audit.hmac_key_env];
  if (raw) {
    const key = Buffer.from(raw, "base64");
    if (key.length < 32) {
      throw new Error(
        `${config.audit.hmac_key_env} must hold at least 32 bytes, base64-encoded (make one with: openssl rand -base64 32)`,
      );
    }
    return key;
  }
  logger.warn(
    { env: config.audit.hmac_key_env },
    "no audit HMAC key set: handle hashes use a per-process key and will not correlate across replicas or restarts",
  );
  return randomBytes(32);
}

/** Every policy reload (SIGHUP) lands in the audit log with its outcome and the new policy-set hash. */
function withAuditedReloads(engine: PolicyEngine, audit: AuditLog, logger: Logger): PolicyEngine {
  return {
    authorize: (request) => engine.authorize(request),
    info: () => engine.info(),
    reload() {
      const result = engine.reload();
      const details: Record<string, JsonValue> = result.ok
        ? { ok: true, policy_set_hash: result.hash }
        : { ok: false, error: result.error };
      audit.append({ type: "policy.reloaded", actor: "system:broker", details }).catch((err: unknown) => {
        logger.warn({ error: String(err) }, "cannot audit a policy reload");
      });
      return result;
    },
  };
}

/** The worker's webhook delivery for new approvals; a no-op without `approvals.webhook`. */
function approvalNotifier(
  config: BrokerConfig,
  env: Readonly<Record<string, string | undefined>>,
  store: ApprovalStore,
  clock: Clock,
): (approvalId: string) => Promise<void> {
  const webhook = config.approvals.webhook;
  if (!webhook) return async () => undefined;
  const secret = Buffer.from(env[webhook.secret_env] ?? "", "base64");
  if (secret.length < 32) {
    throw new Error(
      `${webhook.secret_env} must hold the approval webhook's HMAC key: at least 32 bytes, base64 (openssl rand -base64 32)`,
    );
  }
  return createApprovalWebhook({
    store,
    target: { url: webhook.url, secret, timeoutMs: webhook.timeout_ms },
    publicUrl: config.server.public_url,
    clock,
  });
}

/** The worker's audit sealing loop: checkpoints and retention, at most every 5 s. */
function startSealing(deps: {
  redis: RedisClient;
  keyPrefix: string;
  checkpoints: AuditCheckpoints;
  clock: Clock;
  logger: Logger;
  config: BrokerConfig;
}): NodeJS.Timeout {
  const { audit } = deps.config;
  const seal = createAuditSealer({
    ...deps,
    options: {
      everyEvents: audit.checkpoint_every_events,
      intervalMs: audit.checkpoint_interval_seconds * 1000,
      retentionMs: audit.retention_days === undefined ? undefined : audit.retention_days * 86_400_000,
    },
  });
  const timer = setInterval(
    () =>
      void seal().catch((err: unknown) =>
        deps.logger.warn({ error: err instanceof Error ? err.message : String(err) }, "audit sealing failed"),
      ),
    Math.min(audit.checkpoint_interval_seconds * 1000, 5_000),
  );
  timer.unref();
  return timer;
}

/** The composition root: config → logger, Redis → providers → policy → stores, audit, queue → services → http / worker. */
export async function createBroker(options: BrokerOptions): Promise<Broker> {
  const { config } = options;
  const role = options.role ?? "all";
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger();
  const keyPrefix = config.redis.key_prefix;

  const store = await openStoreConnections(config.redis, env, logger);
  const { redis, queueConnection } = store;

  const providers = await buildProviders({ config, configDir: options.configDir, redis, clock, env, logger });
  const registry = createProviderRegistry(options.decorateProviders?.(providers.all) ?? providers.all);
  const engine = createPolicyEngine({
    files: config.policy.files,
    baseDir: options.configDir,
    logger,
    clock,
  });

  const tasks = createTaskStore({ redis, keyPrefix });
  const credentials = createCredentialStore({ redis, keyPrefix, now: () => clock.now() });
  const audit = createAuditLog({ redis, keyPrefix, clock });
  const policy = withAuditedReloads(engine, audit, logger);
  const checkpoints = createAuditCheckpoints({
    redis,
    keyPrefix,
    clock,
    signer: providers.signer.documents,
    publishedKeys: () => providers.signer.jwks(),
  });
  const metrics = createBrokerMetrics();
  const revocation = config.revocation;
  const queue = createRevocationQueue({
    connection: queueConnection,
    keyPrefix,
    options: {
      attempts: revocation.attempts,
      backoffMs: revocation.backoff_ms,
      reconcileIntervalMs: revocation.reconcile_interval_seconds * 1000,
    },
  });
  metrics.observeGauges({
    queueDepth: () => queue.depth(),
    revokeFailed: () => redis.zcard(credentials.keys.failed),
  });
  const eviction = watchEvictionPolicy({
    redis,
    target: store.target,
    intervalMs: config.redis.eviction_check_seconds * 1000,
    logger,
    onChange: (safe) => metrics.redisEvictionSafe.set(safe ? 1 : 0),
  });
  const readiness = brokerReadiness({ store, queue, policy, eviction });
  const unrecorded = createUnrecordedCredentials({ credentials, queue, audit, metrics, clock, logger });

  const decide = createDecider({ policy, audit });
  const issue = createCredentialIssuer({
    credentials,
    queue,
    audit,
    hashHandle: createHandleHasher(auditHmacKey(config, env, logger)),
    metrics,
    clock,
    logger,
    unrecorded,
  });
  const credentialService = createCredentialService({
    tasks,
    providers: registry,
    decide,
    issue,
    openApproval: (input) => approvals.open(input),
    clock,
  });
  const approvalStore = createApprovalStore({
    redis,
    keyPrefix,
    retentionSeconds: config.approvals.retention_days * 86_400,
  });
  const approvals = createApprovalService({
    store: approvalStore,
    tasks,
    redeem: credentialService.redeem,
    decide,
    audit,
    clock,
    ttlSeconds: config.approvals.ttl_seconds,
    policySetHash: () => policy.info().hash,
    notify: async (approval) => {
      if (config.approvals.webhook) await queue.enqueueApprovalWebhook(approval.id);
    },
  });
  const closer = createTaskCloser({
    tasks,
    credentials,
    queue,
    audit,
    clock,
    onClosing: (taskId, actor) => approvals.cancelForTask(taskId, actor),
  });
  const verifier = createAssertionVerifier({
    issuers: config.issuers,
    defaultAudience: config.server.audience,
    clock,
    replayGuard: createRedisReplayGuard({ redis, keyPrefix, clock }),
    fetch: options.fetch,
    logger,
  });

  const worker =
    role === "api"
      ? null
      : startRevocationWorker({
          connection: queueConnection,
          keyPrefix,
          concurrency: revocation.concurrency,
          attempts: revocation.attempts,
          reconcileIntervalMs: revocation.reconcile_interval_seconds * 1000,
          lockMs: revocation.job_lock_seconds * 1000,
          maxStalledCount: revocation.max_job_stalls + 2,
          revokeCredential: createRevokeCredential({
            credentials,
            providers: registry,
            closer,
            audit,
            metrics,
            clock,
            logger,
            pendingGraceMs: revocation.pending_grace_seconds * 1000,
            failedRetryIntervalMs: revocation.failed_retry_interval_seconds * 1000,
            maxStalls: revocation.max_job_stalls,
          }),
          closeTree: closer.closeTree,
          reconcile: createReconciler({
            tasks,
            credentials,
            closer,
            queue,
            audit,
            clock,
            logger,
            pendingGraceMs: revocation.pending_grace_seconds * 1000,
            intervalMs: revocation.reconcile_interval_seconds * 1000,
          }),
          notifyApproval: approvalNotifier(config, env, approvalStore, clock),
          housekeeping: async () => {
            await Promise.all(registry.all().map((provider) => provider.housekeeping?.()));
          },
          queue,
          logger,
        });

  const sealTimer =
    role === "api" ? null : startSealing({ redis, keyPrefix, checkpoints, clock, logger, config });

  let app: Express | null = null;
  if (role !== "worker") {
    const taskService = createTaskService({
      tasks,
      closer,
      queue,
      audit,
      decide,
      clock,
      limits: {
        maxTaskTtlSeconds: config.limits.max_task_ttl_seconds,
        maxDelegationDepth: config.limits.max_delegation_depth,
      },
      profileExists: (profile) => registry.forProfile(profile) !== undefined,
      verifyInitiator: async (token) => {
        const principal = await verifier.verify(token);
        const email = principal.claims.email;
        return { subject: principal.subject, email: typeof email === "string" ? email : undefined };
      },
    });
    const emergency = createEmergencyRevocation({
      redis,
      keyPrefix,
      tasks,
      credentials,
      closer,
      audit,
      clock,
    });
    app = createHttpApp({
      logger,
      storeReady: () => redis.status === "ready",
      trustProxy: config.server.trust_proxy,
      authenticate: createAuthenticate({ verifier, audit, logger }),
      rateLimit: createRateLimit({ redis, keyPrefix, perMinute: config.limits.requests_per_minute, clock }),
      publicRoutes: [
        healthRoutes({ registry: metrics.registry, readiness }),
        jwksRoute(providers.signer),
        ...(options.extraPublicRoutes ?? []),
      ],
      v1: [
        { path: "/tasks", router: evidenceRoutes({ tasks, credentials, audit, checkpoints, decide, clock }) },
        { path: "/tasks", router: taskRoutes({ taskService, credentialService, tasks, credentials, clock }) },
        { path: "/introspect", router: introspectRoute(providers.signer) },
        { path: "/approvals", router: approvalRoutes({ approvals }) },
        {
          path: "/admin",
          router: adminRoutes({
            decide,
            emergency,
            retryRevocation: createRetryRevocation({ credentials, queue, audit }),
            resolveCredential: createResolveCredential({ credentials, closer, audit, clock }),
            rotateKeys: async () => {
              const rotated = await providers.signer.rotateKeys();
              await audit.append({
                type: "keys.rotated",
                actor: "system:broker",
                details: { kid: rotated.kid },
              });
              return rotated;
            },
            tasks,
            credentials,
            clock,
          }),
        },
        { path: "/audit", router: auditRoutes({ audit, checkpoints, decide, clock }) },
      ],
    });
  }

  let server: Server | null = null;
  let healthServer: HealthServer | null = null;
  return {
    app,
    config,
    signer: providers.signer,
    policy,
    audit,
    worker,
    redis,
    async listen(port = config.server.port, host = config.server.host) {
      if (!app) {
        healthServer = await startHealthServer({
          readiness,
          registry: metrics.registry,
          host,
          port: config.server.worker_port,
        });
        return healthServer.port;
      }
      const httpApp = app;
      server = await new Promise<Server>((resolve, reject) => {
        const started = httpApp.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(started)));
      });
      return (server.address() as AddressInfo).port;
    },
    async close() {
      if (server) {
        const closing = server;
        const drained = new Promise<void>((resolve) => closing.close(() => resolve()));
        closing.closeIdleConnections();
        const force = setTimeout(() => closing.closeAllConnections(), 5_000);
        await drained;
        clearTimeout(force);
      }
      if (sealTimer) clearInterval(sealTimer);
      eviction.stop();
      await unrecorded.close();
      await worker?.close();
      await healthServer?.close();
      await within(queue.close(), 2_000);
      await registry.closeAll();
      store.disconnect();
    },
  };
}
