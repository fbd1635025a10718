import type { Principal } from "../auth/principal.js";
import { type Decide, requireAllowed } from "../policy/decider.js";
import { policyPrincipal } from "../policy/policy-context.js";
import type { Clock } from "../shared/clock.js";
import type { AuditCheckpoints } from "./audit-checkpoints.js";
import type { AuditLog } from "./audit-log.js";
import type { SealNow, SealResult } from "./audit-seal-now.js";
import { verifyChain } from "./audit-verify.js";

/**
 * `/v1/audit`: events (paged), chain verification and checkpoints, each under `ReadAudit`, and sealing a
 * checkpoint now under `RotateKeys` (it signs with the broker's key: docs/policy.md), all decided here.
 */
export function createAuditService(deps: {
  audit: AuditLog;
  checkpoints: AuditCheckpoints;
  sealNow: SealNow;
  decide: Decide;
  clock: Clock;
}) {
  const allow = (principal: Principal, action: "ReadAudit" | "RotateKeys", taskId: string | null = null) =>
    requireAllowed(
      deps.decide,
      {
        action,
        principal: policyPrincipal(principal),
        resource: { type: "Broker" },
        context: { now: Math.floor(deps.clock.now() / 1000) },
      },
      taskId,
      taskId === null ? undefined : "audit",
    );
  const allowRead = (principal: Principal, taskId: string | null = null) =>
    allow(principal, "ReadAudit", taskId);

  /** Walks the whole chain and its signed checkpoints. */
  async function verify(principal: Principal) {
    await allowRead(principal);
    // Checkpoints first, then the head: events appended while the chain is walked are left out.
    const anchor = await deps.checkpoints.anchor();
    const checkpoints = await deps.checkpoints.list();
    const head = await deps.audit.head();
    return verifyChain({
      events: deps.audit.all(),
      anchor,
      checkpoints,
      head,
      checkSignature: deps.checkpoints.checkSignature,
    });
  }

  /** The anchor and every signed checkpoint, for export and offline checks. */
  async function checkpoints(principal: Principal) {
    await allowRead(principal);
    return { anchor: await deps.checkpoints.anchor(), checkpoints: await deps.checkpoints.list() };
  }

  async function list(
    principal: Principal,
    query: { task_id?: string; since?: string; limit: number; cursor?: string },
  ) {
    await allowRead(principal, query.task_id ?? null);
    return deps.audit.list({
      taskId: query.task_id,
      since: query.since,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  /**
   * Signs a checkpoint of the head now. The head includes this request's own decision, so the checkpoint
   * covers every event appended before the call.
   */
  async function seal(principal: Principal): Promise<SealResult> {
    await allow(principal, "RotateKeys");
    return deps.sealNow();
  }

  return { verify, checkpoints, list, seal };
}

export type AuditService = ReturnType<typeof createAuditService>;
