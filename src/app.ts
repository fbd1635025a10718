import type { Server } from "node:http";
import type { Express, Router } from "express";
import type { CredentialProvider } from "../providers/provider.js";
import type { SignerProvider } from "../providers/signer/signer-provider.js";
import type { AuditLog } from "./audit/audit-log.js";
import type { BrokerConfig } from "./config/config-schema.js";
import { type HealthServer, startHealthServer } from "./http/health-server.js";
import { boundPort, listenWithTimeouts, serverTimeoutsOf } from "./http/server-timeouts.js";
import type { PolicyEngine } from "./policy/policy-engine.js";
import type { RevocationWorker } from "./revocation/revocation-worker.js";
import { type Clock, systemClock } from "./shared/clock.js";
import { createLogger, type Logger } from "./shared/logger.js";
import type { RedisClient } from "./shared/redis.js";
import { within } from "./shared/within.js";
import { buildApiApp } from "./wiring/api-role.js";
import { buildCoreServices } from "./wiring/core-services.js";
import { buildInfrastructure } from "./wiring/infrastructure.js";
import { startWorkerRole } from "./wiring/worker-role.js";

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
  /** Graceful stop: HTTP first, then the rescue of unrecorded credentials, the worker, the queue, Redis. */
  close(): Promise<void>;
}

/** Stops accepting, lets open requests finish, and cuts what is still open after 5 s. */
async function drain(server: Server): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const force = setTimeout(() => server.closeAllConnections(), 5_000);
  await drained;
  clearTimeout(force);
}

/** The composition root: infrastructure → core services → the api and/or worker role → lifecycle. */
export async function createBroker(options: BrokerOptions): Promise<Broker> {
  const role = options.role ?? "all";
  const infra = await buildInfrastructure({
    config: options.config,
    configDir: options.configDir,
    env: options.env ?? process.env,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? createLogger(),
    decorateProviders: options.decorateProviders,
  });
  const core = buildCoreServices(infra, options.fetch);
  const workerRole = role === "api" ? null : startWorkerRole(infra, core);
  const apiRole = role === "worker" ? null : buildApiApp(infra, core, options.extraPublicRoutes ?? []);
  const app = apiRole?.app ?? null;
  const { config } = infra;

  let server: Server | null = null;
  let healthServer: HealthServer | null = null;
  return {
    app,
    config,
    signer: infra.signer,
    policy: infra.policy,
    audit: infra.audit,
    worker: workerRole?.worker ?? null,
    redis: infra.redis,
    async listen(port = config.server.port, host = config.server.host) {
      if (!app) {
        const { readiness, metrics } = infra;
        healthServer = await startHealthServer({
          readiness,
          registry: metrics.registry,
          host,
          port: config.server.worker_port,
          timeouts: serverTimeoutsOf(config.server),
        });
        return healthServer.port;
      }
      server = await listenWithTimeouts(app, serverTimeoutsOf(config.server), port, host);
      return boundPort(server);
    },
    async close() {
      if (server) await drain(server);
      await apiRole?.close();
      infra.eviction.stop();
      await core.unrecorded.close();
      await workerRole?.stop();
      await healthServer?.close();
      await within(infra.queue.close(), 2_000);
      await infra.registry.closeAll();
      infra.store.disconnect();
    },
  };
}
