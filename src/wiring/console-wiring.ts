import type { Router } from "express";
import type { AdminService } from "../admin/admin-service.js";
import type { ListApprovals } from "../approvals/approval-listing.js";
import { createApprovalQueue } from "../approvals/approval-queue.js";
import type { AuditService } from "../audit/audit-service.js";
import { userOf } from "../console/console-context.js";
import { consoleRouter } from "../console/console-router.js";
import type { EvidenceService } from "../evidence/evidence-service.js";
import { setPrincipal } from "../http/principal-of.js";
import { createRateLimit } from "../http/rate-limit.js";
import type { CoreServices } from "./core-services.js";
import type { Infrastructure } from "./infrastructure.js";

/** The web console's routes (docs/console.md), or none when `console` is absent or disabled. */
export function buildConsoleRoutes(
  infra: Infrastructure,
  core: CoreServices,
  services: {
    admin: AdminService;
    listApprovals: ListApprovals;
    auditService: AuditService;
    evidence: EvidenceService;
  },
): Router[] {
  const settings = infra.config.console;
  if (!settings?.enabled) return [];
  const { redis, keyPrefix, clock } = infra;
  const limit = createRateLimit({
    redis,
    keyPrefix,
    perMinute: infra.config.limits.requests_per_minute,
    clock,
  });
  return [
    consoleRouter({
      console: settings,
      publicUrl: infra.config.server.public_url,
      env: infra.env,
      redis: infra.redis,
      keyPrefix: infra.keyPrefix,
      logger: infra.logger,
      audit: infra.audit,
      rateLimit: (req, res, next) => {
        setPrincipal(req, userOf(req).principal);
        return limit(req, res, next);
      },
      services: {
        admin: services.admin,
        approvals: core.approvals,
        approvalQueue: createApprovalQueue({ listApprovals: services.listApprovals, tasks: infra.tasks }),
        auditService: services.auditService,
        evidence: services.evidence,
        queueDepth: () => infra.queue.depth(),
        clock: infra.clock,
        refreshMs: Math.round(settings.refresh_seconds * 1000),
      },
    }),
  ];
}
