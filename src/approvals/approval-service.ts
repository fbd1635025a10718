import type { AuditLog } from "../audit/audit-log.js";
import { humanIdentity } from "../auth/human-identity.js";
import type { Principal } from "../auth/principal.js";
import type { CredentialService, HeldForApproval, IssuedResult } from "../credentials/credential-service.js";
import { type Decide, policyDenied } from "../policy/decider.js";
import type { Quotas } from "../quotas/quotas.js";
import type { Clock } from "../shared/clock.js";
import { BrokerError, isBrokerError, notFound } from "../shared/errors.js";
import { newId } from "../shared/ids.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { ApprovalStore } from "./approval-store.js";
import type { Approval } from "./approval-types.js";
import { approveRequest } from "./approve-request.js";
import { requestHash } from "./request-hash.js";

/** A request held for a human: the requester polls the approval. */
export interface PendingApproval {
  approvalId: string;
  expiresAt: number;
}

/** What the requester's GET returns: the approval, plus the credential exactly once after approval. */
export interface ApprovalView {
  approval: Approval;
  issued: IssuedResult | null;
}

export interface ApprovalServiceDeps {
  store: ApprovalStore;
  tasks: Pick<TaskStore, "get">;
  redeem: CredentialService["redeem"];
  decide: Decide;
  audit: Pick<AuditLog, "append">;
  clock: Clock;
  ttlSeconds: number;
  policySetHash: () => string;
  quotas: Pick<Quotas, "openApproval">;
  /** Notifies approvers of a new approval (the worker delivers and retries); optional. */
  notify: (approval: Approval) => Promise<void>;
}

const notPending = (approval: Approval) =>
  new BrokerError("approval_not_pending", `The approval is ${approval.state}, not pending.`, {
    details: { state: approval.state },
  });

/**
 * The copilot pattern: a request stopped only by `@approval("required")` forbids waits for a human. The
 * approval is bound to the exact request and the policy set, expires, can never be approved by its
 * requester, and yields its credential once, to the requester, after the policy allows it with
 * `context.approved = true`.
 */
export function createApprovalService(deps: ApprovalServiceDeps) {
  const { store, audit, clock } = deps;
  const record = (
    approval: Approval,
    type:
      | "approval.requested"
      | "approval.approved"
      | "approval.denied"
      | "approval.expired"
      | "approval.cancelled"
      | "approval.redeemed",
    actor: string,
    extra: Record<string, string | null> = {},
  ) =>
    audit.append({
      type,
      actor,
      task_id: approval.taskId,
      credential_id: approval.credentialId,
      reason: extra.reason ?? null,
      details: { approval_id: approval.id, profile: approval.profile, ...extra },
    });

  /** Opens an approval for a request the policy held; the requester polls it. */
  const open = async ({
    principal,
    task,
    provider,
    request,
    decision,
  }: HeldForApproval): Promise<PendingApproval> => {
    await deps.quotas.openApproval(principal.id);
    const now = clock.now();
    const scopes = request.scopes ?? [];
    const ttlSeconds = request.ttlSeconds ?? null;
    const reason = request.reason ?? "";
    const approval: Approval = {
      id: newId("apr"),
      taskId: task.id,
      requester: principal.id,
      requesterIdentity: humanIdentity(principal),
      profile: request.profile,
      provider: provider.kind,
      scopes,
      ttlSeconds,
      reason,
      requestHash: requestHash({ taskId: task.id, profile: request.profile, scopes, ttlSeconds, reason }),
      policySetHash: decision.policySetHash,
      policyIds: decision.policyIds,
      createdAt: now,
      expiresAt: Math.min(now + deps.ttlSeconds * 1000, task.deadline),
      state: "pending",
      decidedBy: null,
      decidedAt: null,
      comment: null,
      credentialId: null,
      note: null,
    };
    await store.create(approval);
    await record(approval, "approval.requested", principal.id, { requester: principal.id });
    await deps.notify(approval);
    return { approvalId: approval.id, expiresAt: approval.expiresAt };
  };

  /** Loads an approval, recording expiry lazily (an approved-but-unredeemed one expires too). */
  async function load(approvalId: string): Promise<Approval> {
    const approval = await store.get(approvalId);
    if (!approval) throw notFound("Approval");
    if (
      (approval.state === "pending" || approval.state === "approved") &&
      clock.now() >= approval.expiresAt
    ) {
      if (await store.transition(approval, ["pending", "approved"], "expired"))
        await record(approval, "approval.expired", "system:broker");
      return { ...approval, state: "expired" };
    }
    return approval;
  }

  /** `viewing`: the approver only looks at the request (recorded as a read, not as the approval). */
  async function mayApprove(principal: Principal, approval: Approval, viewing = false): Promise<boolean> {
    if (principal.id === approval.requester) return false;
    const task = await deps.tasks.get(approval.taskId);
    if (!task) return false;
    const request = approveRequest(principal, approval, task, clock.now());
    const subject = viewing
      ? { taskId: approval.taskId, read: "approval" as const }
      : { taskId: approval.taskId };
    return (await deps.decide(request, subject)).effect === "allow";
  }

  async function decideOn(
    principal: Principal,
    approvalId: string,
    outcome: "approved" | "denied",
    comment: string | undefined,
  ): Promise<Approval> {
    const approval = await load(approvalId);
    if (principal.id === approval.requester) {
      throw new BrokerError("policy_denied", "A requester can never approve or deny its own request.", {
        details: { policies: [], rule: "no_self_approval" },
      });
    }
    if (!(await mayApprove(principal, approval)))
      throw policyDenied("Approve", { effect: "deny", policyIds: [], policySetHash: deps.policySetHash() });
    if (approval.state !== "pending") throw notPending(approval);
    const task = await deps.tasks.get(approval.taskId);
    if (task?.state !== "open") {
      await cancel(approval, "task_closed", "system:broker");
      throw new BrokerError("task_not_open", "The approval's task is no longer open.");
    }
    const fields = { decided_by: principal.id, decided_at: String(clock.now()), comment: comment ?? "" };
    if (!(await store.transition(approval, ["pending"], outcome, fields)))
      throw notPending(await load(approvalId));
    const decided = { ...approval, state: outcome, decidedBy: principal.id, comment: comment ?? null };
    await record(decided, outcome === "approved" ? "approval.approved" : "approval.denied", principal.id, {
      approver: principal.id,
      comment: comment ?? null,
    });
    return decided;
  }

  async function cancel(approval: Approval, note: string, actor: string): Promise<void> {
    if (await store.transition(approval, ["pending", "approved"], "cancelled", { note })) {
      await record(approval, "approval.cancelled", actor, { reason: note });
    }
  }

  /** The requester's redemption: bound to the exact request and policy set; issues at most once. */
  async function redeem(principal: Principal, approval: Approval): Promise<ApprovalView> {
    const bound = requestHash({
      taskId: approval.taskId,
      profile: approval.profile,
      scopes: approval.scopes,
      ttlSeconds: approval.ttlSeconds,
      reason: approval.reason,
    });
    if (bound !== approval.requestHash || approval.policySetHash !== deps.policySetHash()) {
      const note = bound !== approval.requestHash ? "request_altered" : "policy_changed";
      await cancel(approval, note, "system:broker");
      throw new BrokerError(
        "approval_not_pending",
        `The approval no longer matches its request (${note}); ask again.`,
        { details: { state: "cancelled", reason: note } },
      );
    }
    if (!(await store.transition(approval, ["approved"], "issuing")))
      return { approval: await load(approval.id), issued: null };
    try {
      const issued = await deps.redeem(principal, approval.taskId, {
        profile: approval.profile,
        scopes: approval.scopes,
        reason: approval.reason,
        ...(approval.ttlSeconds === null ? {} : { ttlSeconds: approval.ttlSeconds }),
      });
      const done = { ...approval, state: "issued" as const, credentialId: issued.credential.id };
      await store.transition(approval, ["issuing"], "issued", { credential_id: issued.credential.id });
      await record(done, "approval.redeemed", principal.id);
      return { approval: done, issued };
    } catch (err) {
      const code = isBrokerError(err) ? err.code : "error";
      const retryable = code === "provider_error" || code === "unavailable";
      if (retryable) await store.transition(approval, ["issuing"], "approved");
      else if (await store.transition(approval, ["issuing"], "cancelled", { note: code })) {
        await record(approval, "approval.cancelled", "system:broker", { reason: code });
      }
      throw err;
    }
  }

  return {
    open,
    /** Loads an approval, recording its expiry if it lapsed (404 for an unknown id). */
    load,
    async view(principal: Principal, approvalId: string): Promise<ApprovalView> {
      const approval = await load(approvalId);
      if (principal.id === approval.requester) {
        return approval.state === "approved" ? redeem(principal, approval) : { approval, issued: null };
      }
      if (!(await mayApprove(principal, approval, true))) throw notFound("Approval");
      return { approval, issued: null };
    },
    approve: (principal: Principal, approvalId: string, comment?: string) =>
      decideOn(principal, approvalId, "approved", comment),
    deny: (principal: Principal, approvalId: string, comment?: string) =>
      decideOn(principal, approvalId, "denied", comment),
    /** Closing a task cancels its pending and unredeemed approvals. */
    async cancelForTask(taskId: string, actor: string): Promise<void> {
      for (const approval of await store.listForTask(taskId)) await cancel(approval, "task_closed", actor);
    },
  };
}

export type ApprovalService = ReturnType<typeof createApprovalService>;
