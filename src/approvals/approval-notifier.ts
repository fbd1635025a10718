import type { Clock } from "../shared/clock.js";
import type { ApprovalStore } from "./approval-store.js";
import { createApprovalWebhook } from "./approval-webhook.js";

/** The `approvals.webhook` config section. */
export interface ApprovalWebhookConfig {
  url: string;
  secret_env: string;
  timeout_ms: number;
}

/**
 * The worker's delivery of new approvals to the configured webhook, signed with the HMAC key from the env
 * var `secret_env` names (base64, ≥ 32 bytes); a no-op without a webhook.
 */
export function createApprovalNotifier(deps: {
  webhook: ApprovalWebhookConfig | undefined;
  env: Readonly<Record<string, string | undefined>>;
  store: ApprovalStore;
  publicUrl: string;
  clock: Clock;
}): (approvalId: string) => Promise<void> {
  const { webhook } = deps;
  if (!webhook) return async () => undefined;
  const secret = Buffer.from(deps.env[webhook.secret_env] ?? "", "base64");
  if (secret.length < 32) {
    throw new Error(
      `${webhook.secret_env} must hold the approval webhook's HMAC key: at least 32 bytes, base64 (openssl rand -base64 32)`,
    );
  }
  return createApprovalWebhook({
    store: deps.store,
    target: { url: webhook.url, secret, timeoutMs: webhook.timeout_ms },
    publicUrl: deps.publicUrl,
    clock: deps.clock,
  });
}
