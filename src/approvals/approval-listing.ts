import type { AuditLog } from "../audit/audit-log.js";
import type { Principal } from "../auth/principal.js";
import type { PolicyEngine } from "../policy/policy-engine.js";
import { BrokerError } from "../shared/errors.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { ApprovalService } from "./approval-service.js";
import type { ApprovalStore, PendingPosition } from "./approval-store.js";
import type { Approval } from "./approval-types.js";
import { approveRequest } from "./approve-request.js";

/** Entries one listing may examine at most; past that it answers what it found and a cursor. */
const SCAN_BUDGET = 1_000;
const BATCH = 100;

export interface ApprovalPage {
  approvals: Approval[];
  /** Where the next page starts; null when every pending approval was examined. */
  nextCursor: string | null;
}

const encodeCursor = (p: PendingPosition): string =>
  Buffer.from(`${p.expiresAt}:${p.id}`).toString("base64url");

function decodeCursor(cursor: string): PendingPosition {
  const match = /^(\d{1,16}):(apr_[A-Za-z0-9_-]{1,64})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match?.[1] || !match[2]) {
    throw new BrokerError("invalid_request", "cursor: not a cursor this listing returned.", {
      details: { issues: [{ path: "cursor", message: "not a cursor this listing returned" }] },
    });
  }
  return { expiresAt: Number(match[1]), id: match[2] };
}

/**
 * `GET /v1/approvals`: the pending approvals the caller may decide, filtered before paging (an agent's
 * flood of requests cannot push a real one off an approver's page) with a real cursor. Each candidate is
 * checked against the policy without a recorded decision; the listing as a whole is one audit event.
 */
export function createApprovalListing(deps: {
  store: Pick<ApprovalStore, "pendingAfter">;
  approvals: Pick<ApprovalService, "load">;
  tasks: Pick<TaskStore, "get">;
  policy: Pick<PolicyEngine, "authorize">;
  audit: Pick<AuditLog, "append">;
  now: () => number;
}) {
  async function mayDecide(principal: Principal, approval: Approval): Promise<boolean> {
    if (approval.state !== "pending" || approval.requester === principal.id) return false;
    const task = await deps.tasks.get(approval.taskId);
    if (!task) return false;
    return deps.policy.authorize(approveRequest(principal, approval, task, deps.now())).effect === "allow";
  }

  return async (principal: Principal, query: { limit: number; cursor?: string }): Promise<ApprovalPage> => {
    const found: Approval[] = [];
    let position = query.cursor ? decodeCursor(query.cursor) : null;
    let scanned = 0;
    let more = true;
    while (found.length < query.limit && scanned < SCAN_BUDGET && more) {
      const batch = await deps.store.pendingAfter(position, Math.min(BATCH, SCAN_BUDGET - scanned));
      more = batch.length > 0;
      for (const entry of batch) {
        scanned++;
        position = entry;
        const approval = await deps.approvals.load(entry.id).catch(() => null);
        if (approval && (await mayDecide(principal, approval))) found.push(approval);
        if (found.length === query.limit) break;
      }
    }
    const exhausted =
      !more || (position !== null && (await deps.store.pendingAfter(position, 1)).length === 0);
    await deps.audit.append({
      type: "approvals.listed",
      actor: principal.id,
      details: { returned: found.length, examined: scanned },
    });
    return { approvals: found, nextCursor: exhausted || position === null ? null : encodeCursor(position) };
  };
}

export type ListApprovals = ReturnType<typeof createApprovalListing>;
