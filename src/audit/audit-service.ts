import type { Principal } from "../auth/principal.js";
import { type Decide, requireAllowed } from "../policy/decider.js";
import { policyPrincipal } from "../policy/policy-context.js";
import type { RevocationQueue } from "../revocation/revocation-queue.js";
import type { Clock } from "../shared/clock.js";
import { notFound } from "../shared/errors.js";
import { newId } from "../shared/ids.js";
import type { AuditCheckpoints } from "./audit-checkpoints.js";
import type { AuditLog } from "./audit-log.js";
import type { SealNow, SealResult } from "./audit-seal-now.js";
import type { AuditVerifications, VerificationStatus } from "./audit-verifications.js";
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
  verifications: Pick<AuditVerifications, "create" | "get">;
  queue: Pick<RevocationQueue, "enqueueAuditVerification">;
  /** `audit.verify_full_up_to_events`: chains up to this long are walked whole by `GET /v1/audit/verify`. */
  fullUpToEvents: number;
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

  /**
   * Checks the chain: the whole of it while it is at most `fullUpToEvents` long (or has no checkpoint
   * yet), else (or with `scope: since_checkpoint`) only from the newest signed checkpoint to the head: that
   * checkpoint's signature, its own event (which must carry the hash it signed) and every event after it.
   * The full walk of a long chain is a job (`startFull`).
   */
  async function verify(principal: Principal, scope?: "since_checkpoint") {
    await allowRead(principal);
    // Checkpoints first, then the head: events appended while the chain is walked are left out.
    const anchor = await deps.checkpoints.anchor();
    const last = await deps.checkpoints.last();
    const head = await deps.audit.head();
    const length = head ? head.seq - (anchor?.seq ?? 0) : 0;
    if (last === null || (scope === undefined && length <= deps.fullUpToEvents)) {
      const checkpoints = await deps.checkpoints.list();
      const result = await verifyChain({
        events: deps.audit.all(),
        anchor,
        checkpoints,
        head,
        checkSignature: deps.checkpoints.checkSignature,
      });
      return { ...result, scope: "full" as const };
    }
    const events = await deps.audit.since(last.seq);
    const own = events[0]?.seq === last.seq ? events[0] : undefined;
    const result = await verifyChain({
      events,
      anchor: null,
      checkpoints: [last],
      head,
      checkSignature: deps.checkpoints.checkSignature,
      // The checkpoint's own event is examined too: it must hash to what the checkpoint signed.
      from: { seq: last.seq - 1, hash: own?.prev_hash ?? "" },
    });
    return { ...result, scope: "since_checkpoint" as const };
  }

  /** Queues a full walk of the chain on the worker role; its progress and result are read with `verification`. */
  async function startFull(principal: Principal): Promise<VerificationStatus> {
    await allowRead(principal);
    const status = await deps.verifications.create(newId("ver"), principal.id);
    await deps.queue.enqueueAuditVerification(status.verification_id);
    return status;
  }

  async function verification(principal: Principal, verificationId: string): Promise<VerificationStatus> {
    await allowRead(principal);
    const status = await deps.verifications.get(verificationId);
    if (!status) throw notFound("verification");
    return status;
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

  return { verify, startFull, verification, checkpoints, list, seal };
}

export type AuditService = ReturnType<typeof createAuditService>;
