import type { Express, Router } from "express";
import { createAdminService } from "../admin/admin-service.js";
import { createApprovalListing } from "../approvals/approval-listing.js";
import { createRequestCredential } from "../approvals/request-credential.js";
import { createSealLock } from "../audit/audit-seal-lock.js";
import { createSealNow } from "../audit/audit-seal-now.js";
import { createAuditService } from "../audit/audit-service.js";
import { createAuditVerifications } from "../audit/audit-verifications.js";
import { createIssuerNamer } from "../auth/issuer-name.js";
import { createRejectionSummary } from "../auth/rejection-summary.js";
import { createRedisReplayGuard } from "../auth/replay-guard.js";
import { createWhoAmI } from "../auth/whoami.js";
import { createEvidenceService } from "../evidence/evidence-service.js";
import { createAddressGuard } from "../http/address-guard.js";
import { createAuthenticate } from "../http/authenticate.js";
import { createAuthenticateClient } from "../http/authenticate-client.js";
import { createHttpApp } from "../http/http-app.js";
import { createOAuthErrorHandler } from "../http/oauth-error-handler.js";
import { buildOpenApiDocument } from "../http/openapi/openapi-document.js";
import { createRateLimit } from "../http/rate-limit.js";
import { adminRoutes } from "../http/routes/admin-routes.js";
import { approvalRoutes } from "../http/routes/approval-routes.js";
import { auditRoutes } from "../http/routes/audit-routes.js";
import { evidenceRoutes } from "../http/routes/evidence-routes.js";
import { healthRoutes } from "../http/routes/health-routes.js";
import { oauthMetadataRoute, revokeRoute, tokenRoute } from "../http/routes/oauth-routes.js";
import { openApiRoute } from "../http/routes/openapi-routes.js";
import { signalsRoutes, ssfMetadataRoute, ssfReceiverRoute } from "../http/routes/signals-routes.js";
import { introspectRoute, jwksRoute } from "../http/routes/signer-routes.js";
import { taskRoutes } from "../http/routes/task-routes.js";
import { whoamiRoutes } from "../http/routes/whoami-routes.js";
import { createIntrospectionService } from "../introspection/introspection-service.js";
import { OAUTH_PATHS } from "../oauth/oauth-metadata.js";
import { createTokenRevocation } from "../oauth/token-revocation.js";
import { createEmergencyRevocation } from "../revocation/emergency-revocation.js";
import { createResolveCredential } from "../revocation/resolve-credential.js";
import { createRetryRevocation } from "../revocation/retry-revocation.js";
import { createRevocationRecordStore } from "../revocation/revocation-record-store.js";
import { createSetIntake } from "../signals/set-intake.js";
import { createSignalsService } from "../signals/signals-service.js";
import { ssfMetadata } from "../signals/ssf-metadata.js";
import { createTaskDetails, createTaskSummaries } from "../tasks/task-details.js";
import { createTaskService } from "../tasks/task-service.js";
import { buildConsoleRoutes } from "./console-wiring.js";
import type { CoreServices } from "./core-services.js";
import type { Infrastructure } from "./infrastructure.js";
import { authorizationServerMetadata, buildOAuthServices } from "./oauth-services.js";
import { buildResourceServerAuthenticator } from "./resource-servers.js";
import { buildTransmitters } from "./signal-receivers.js";

/** The api-only services: tasks, admin powers, audit reads and evidence, each deciding its own access. */
function buildApiServices(infra: Infrastructure, core: CoreServices) {
  const { config, tasks, credentials, audit, queue, clock, redis, keyPrefix } = infra;
  const { decide, closer } = core;
  const describeTask = createTaskDetails({ tasks, credentials });
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
    profileExists: (profile) => infra.registry.forProfile(profile) !== undefined,
    quotas: core.quotas,
    verifyInitiator: async (token) => {
      const principal = await core.verifier.verify(token);
      const email = principal.claims.email;
      return { subject: principal.subject, email: typeof email === "string" ? email : undefined };
    },
  });
  const emergency = createEmergencyRevocation({
    records: createRevocationRecordStore({ redis, keyPrefix }),
    tasks,
    credentials,
    queue,
    audit,
    clock,
  });
  const admin = createAdminService({
    decide,
    emergency,
    retryRevocation: createRetryRevocation({ credentials, queue, audit }),
    resolveCredential: createResolveCredential({ credentials, closer, audit, clock }),
    rotateKeys: () => infra.signer.rotateKeys(),
    tasks,
    credentials,
    summarizeTasks: createTaskSummaries({ tasks, credentials }),
    audit,
    clock,
  });
  const requestCredential = createRequestCredential({
    credentials: core.credentialService,
    approvals: core.approvals,
  });
  const oauth = buildOAuthServices(infra, core, { taskService, requestCredential });
  return {
    taskService,
    taskTokens: oauth.taskTokenService,
    tokens: oauth.tokens,
    describeTask,
    admin,
    requestCredential,
    boundRequestCredential: oauth.boundRequestCredential,
    listApprovals: createApprovalListing({
      store: infra.approvalStore,
      approvals: core.approvals,
      tasks,
      policy: infra.policy,
      audit,
      now: () => clock.now(),
    }),
    introspection: createIntrospectionService({
      signer: infra.signer,
      credentials,
      decide,
      clock,
      taskTokens: oauth.taskTokens,
    }),
    whoami: createWhoAmI({
      policy: infra.policy,
      profiles: () =>
        Object.entries(config.profiles).map(([name, profile]) => ({ name, provider: profile.provider })),
      now: () => clock.now(),
    }),
    auditService: createAuditService({
      audit,
      checkpoints: infra.checkpoints,
      sealNow: createSealNow({ lock: createSealLock({ redis, keyPrefix }), checkpoints: infra.checkpoints }),
      decide,
      clock,
      verifications: createAuditVerifications({
        redis,
        keyPrefix,
        clock,
        audit,
        checkpoints: infra.checkpoints,
      }),
      queue,
      fullUpToEvents: config.audit.verify_full_up_to_events,
    }),
    intake: createSetIntake({
      transmitters: buildTransmitters({ config, clock, logger: infra.logger }),
      replayGuard: createRedisReplayGuard({ redis, keyPrefix, clock }),
      revoke: (actor, order) => emergency.start(actor, order),
      audit,
      clock,
      maxAgeSeconds: config.signals.receiver_max_age_seconds,
    }),
    signals: createSignalsService({
      streams: infra.streams,
      emitter: core.signals,
      polls: infra.polls,
      decide,
      clock,
      maxStreamsPerClient: config.signals.max_streams_per_client,
    }),
    evidence: createEvidenceService({
      tasks,
      credentials,
      audit,
      checkpoints: infra.checkpoints,
      decide,
      clock,
    }),
  };
}

export interface ApiRole {
  readonly app: Express;
  /** Writes the last rejection summaries. */
  close(): Promise<void>;
}

/** The api role's Express app: public routes (health, JWKS, extras) and the authenticated `/v1` routes. */
export function buildApiApp(infra: Infrastructure, core: CoreServices, extraPublicRoutes: Router[]): ApiRole {
  const { config, clock, logger, redis, keyPrefix } = infra;
  const services = buildApiServices(infra, core);
  const guard = createAddressGuard({
    rejectionsPerMinute: config.limits.rejected_assertions_per_address_per_minute,
    now: () => clock.now(),
  });
  // Refused SETs have a budget of their own: a transmitter sending bad events is not refused the API.
  const setGuard = createAddressGuard({
    rejectionsPerMinute: config.limits.rejected_assertions_per_address_per_minute,
    now: () => clock.now(),
  });
  const rejections = createRejectionSummary({
    audit: infra.audit,
    logger,
    now: () => clock.now(),
    options: {
      intervalMs: config.audit.rejection_interval_seconds * 1000,
      sampledPerInterval: config.audit.rejection_samples,
      topAddresses: 5,
    },
  });
  const authenticate = createAuthenticate({
    verifier: core.verifier,
    rejections,
    guard,
    issuerName: createIssuerNamer(config.issuers),
    logger,
  });
  const app = createHttpApp({
    logger,
    storeReady: () => redis.status === "ready",
    trustProxy: config.server.trust_proxy,
    addressGuard: (req, res, next) =>
      guard.middleware(req, res, (refused?: unknown) => {
        if (!refused) return next();
        // Refused unverified: counted in the summary like every rejection, never recorded one by one.
        const address = req.ip ?? "";
        void rejections.record({
          issuer: "unverified",
          reason: "address_limited",
          address,
          path: req.path,
          method: req.method,
        });
        next(refused);
      }),
    authenticate,
    authenticateClient: createAuthenticateClient({
      bearer: authenticate,
      clients: buildResourceServerAuthenticator({
        config,
        env: infra.env,
        replayGuard: createRedisReplayGuard({ redis, keyPrefix, clock }),
        clock,
        logger,
      }),
      rejections,
      guard,
      logger,
    }),
    rateLimit: createRateLimit({ redis, keyPrefix, perMinute: config.limits.requests_per_minute, clock }),
    publicRoutes: [
      healthRoutes({ registry: infra.metrics.registry, readiness: infra.readiness }),
      jwksRoute(infra.signer),
      oauthMetadataRoute(authorizationServerMetadata(infra)),
      ssfMetadataRoute(ssfMetadata(config.server.public_url, infra.signer.issuer)),
      ssfReceiverRoute({ intake: services.intake, guard: setGuard }),
      openApiRoute(buildOpenApiDocument({ publicUrl: config.server.public_url })),
      ...extraPublicRoutes,
      ...buildConsoleRoutes(infra, core, services),
    ],
    oauthRoutes: [
      tokenRoute({
        tokens: services.tokens,
        tokenEndpointUrl: `${config.server.public_url.replace(/\/+$/, "")}${OAUTH_PATHS.token}`,
      }),
    ],
    oauthClientRoutes: [
      {
        path: "/revoke",
        router: revokeRoute({
          revoke: createTokenRevocation({
            introspection: services.introspection,
            credentials: infra.credentials,
            queue: infra.queue,
            audit: infra.audit,
          }),
        }),
      },
    ],
    oauthErrors: createOAuthErrorHandler({
      logger,
      storeReady: () => redis.status === "ready",
      onRejectedAssertion: async (req, reason) => {
        const address = req.ip ?? "";
        guard.rejected(address);
        await rejections.record({
          issuer: "token_endpoint",
          reason,
          address,
          path: req.path,
          method: req.method,
        });
      },
    }),
    clientRoutes: [
      { path: "/introspect", router: introspectRoute({ introspection: services.introspection }) },
      {
        path: "/ssf",
        router: signalsRoutes({
          signals: services.signals,
          issuer: infra.signer.issuer,
          publicUrl: config.server.public_url,
        }),
      },
    ],
    v1: [
      { path: "/tasks", router: evidenceRoutes({ evidence: services.evidence }) },
      {
        path: "/tasks",
        router: taskRoutes({
          ...services,
          requestCredential: services.boundRequestCredential,
          publicUrl: config.server.public_url,
          clock,
        }),
      },
      {
        path: "/approvals",
        router: approvalRoutes({ approvals: core.approvals, listApprovals: services.listApprovals }),
      },
      { path: "/admin", router: adminRoutes({ admin: services.admin, clock }) },
      { path: "/audit", router: auditRoutes({ auditService: services.auditService }) },
      { path: "/whoami", router: whoamiRoutes({ whoami: services.whoami }) },
    ],
  });
  return { app, close: async () => void (await rejections.close()) };
}
