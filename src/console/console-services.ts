import type { AdminService } from "../admin/admin-service.js";
import type { ApprovalQueue } from "../approvals/approval-queue.js";
import type { ApprovalService } from "../approvals/approval-service.js";
import type { AuditService } from "../audit/audit-service.js";
import type { EvidenceService } from "../evidence/evidence-service.js";
import type { Clock } from "../shared/clock.js";

/** The services the console calls: the same ones as /v1, each deciding with the signed-in human as principal. */
export interface ConsoleServices {
  admin: AdminService;
  approvals: Pick<ApprovalService, "approve" | "deny">;
  approvalQueue: ApprovalQueue;
  auditService: AuditService;
  evidence: EvidenceService;
  /** The revocation queue's job counts by state (what `/metrics` exports as credbroker_queue_depth). */
  queueDepth: () => Promise<Record<string, number>>;
  clock: Clock;
  /** How often live regions refresh, in ms. */
  refreshMs: number;
}
