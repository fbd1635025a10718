import { createHmac } from "node:crypto";
import { discardBody } from "../shared/bounded-body.js";
import type { Clock } from "../shared/clock.js";
import { toIso } from "../shared/clock.js";
import type { ApprovalStore } from "./approval-store.js";

export interface WebhookTarget {
  url: string;
  /** HMAC-SHA256 key; the body is signed as `t=<unix seconds>.<body>`. */
  secret: Buffer;
  timeoutMs: number;
}

/**
 * Delivers "approval requested" to the configured webhook: JSON body, `X-Credbroker-Signature:
 * t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>">`. Non-2xx or network errors throw, so the worker retries
 * with backoff. The response body is discarded unread. Approvals no longer pending are not announced. The body holds ids and request facts only.
 */
export function createApprovalWebhook(deps: {
  store: Pick<ApprovalStore, "get">;
  target: WebhookTarget;
  publicUrl: string;
  clock: Clock;
}) {
  return async (approvalId: string): Promise<void> => {
    const approval = await deps.store.get(approvalId);
    if (approval?.state !== "pending") return;
    const body = JSON.stringify({
      type: "approval.requested",
      approval_id: approval.id,
      task_id: approval.taskId,
      requester: approval.requester,
      profile: approval.profile,
      scopes: approval.scopes,
      ttl_seconds: approval.ttlSeconds,
      reason: approval.reason,
      expires_at: toIso(approval.expiresAt),
      approve_url: `${deps.publicUrl}/v1/approvals/${approval.id}/approve`,
    });
    const timestamp = Math.floor(deps.clock.now() / 1000);
    const signature = createHmac("sha256", deps.target.secret).update(`${timestamp}.${body}`).digest("hex");
    const res = await fetch(deps.target.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-credbroker-signature": `t=${timestamp},v1=${signature}`,
      },
      body,
      signal: AbortSignal.timeout(deps.target.timeoutMs),
    });
    // Only the status matters; the body is never read, so a huge answer costs nothing.
    await discardBody(res);
    if (!res.ok) throw new Error(`approval webhook answered ${res.status}`);
  };
}
