import type { CredentialProvider, IssuedCredential } from "../../providers/provider.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { BrokerMetrics } from "../metrics/broker-metrics.js";
import type { RevocationQueue } from "../revocation/revocation-queue.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { CredentialStore } from "./credential-store.js";
import type { Credential } from "./credential-types.js";

/** `revoke_reason` of a credential the provider issued while the store could not record it. */
export const STORE_UNAVAILABLE = "store_unavailable";

/**
 * Provider results the broker could not record because Redis failed between the provider's answer and
 * the activation (or its audit event). The caller got a 503 and never saw the secret, but the upstream
 * credential exists: it is revoked at once through the provider, and its handle and outcome are written to
 * the credential's record as soon as Redis answers again. Nothing here is lost while the process lives;
 * if the process dies first, the `pending` record written before the provider was called still lets the
 * reconciler find and revoke it from its id (see docs/architecture.md, "Windows").
 */
export interface UnrecordedCredentials {
  /** Takes over one result; never throws. */
  adopt(credential: Credential, issued: IssuedCredential, provider: CredentialProvider): void;
  /**
   * Recording the pending credential failed, so the provider was never called, but the record may exist
   * (the write landed, its reply did not): once Redis answers it is marked `failed` (nothing downstream),
   * so the reconciler does not wait out an upstream's late-landing window for it. Never throws.
   */
  abandon(credential: Credential, provider: CredentialProvider): void;
  /** Credentials not yet both revoked and recorded. */
  held(): number;
  /** Stops retrying after one last bounded attempt for each (shutdown); logs what stays unrecorded. */
  close(timeoutMs?: number): Promise<void>;
}

interface Held {
  credential: Credential;
  /** Null: the provider was never called. */
  issued: IssuedCredential | null;
  provider: CredentialProvider;
  revoked: boolean;
  attempts: number;
  timer?: NodeJS.Timeout;
}

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 5_000;

export function createUnrecordedCredentials(deps: {
  credentials: Pick<CredentialStore, "transition">;
  queue: Pick<RevocationQueue, "enqueueRevocations">;
  audit: Pick<AuditLog, "append">;
  metrics: Pick<BrokerMetrics, "unrecorded">;
  clock: Clock;
  logger: Logger;
}): UnrecordedCredentials {
  const held = new Map<string, Held>();
  let closed = false;

  async function revoke(item: Held): Promise<void> {
    const { credential, issued, provider } = item;
    if (!issued) return;
    await provider.revoke({
      credentialId: credential.id,
      handle: issued.handle,
      expiresAt: issued.expiresAt,
      profile: credential.profile,
      createdAt: credential.createdAt,
    });
    item.revoked = true;
    deps.metrics.unrecorded.inc({ outcome: "revoked", provider: provider.kind });
  }

  /** Marks a never-issued credential failed; a record that is gone or already elsewhere needs nothing. */
  async function recordNeverIssued(credential: Credential): Promise<void> {
    const message = "the store failed before the provider was called: nothing was issued";
    const moved = await deps.credentials.transition(credential, ["pending", "revoking"], "failed", {
      last_error: message,
    });
    if (!moved.moved) return;
    await deps.audit.append({
      type: "credential.issue_failed",
      actor: "system:broker",
      task_id: credential.taskId,
      credential_id: credential.id,
      reason: message,
      details: { outcome: "not_issued" },
    });
  }

  /** Writes the handle and the outcome; a record already settled (or gone) needs nothing more. */
  async function record(item: Held): Promise<void> {
    const { credential, issued } = item;
    if (!issued) return recordNeverIssued(credential);
    const now = deps.clock.now();
    const fields: Record<string, string> = {
      handle: issued.handle,
      expires_at: String(issued.expiresAt),
      downstream_account: issued.downstreamAccount,
      issued_at: String(credential.createdAt),
      revoke_reason: STORE_UNAVAILABLE,
      ...(item.revoked ? { revoked_at: String(now), last_error: "" } : {}),
    };
    const to = item.revoked ? "revoked" : "revoking";
    const moved = await deps.credentials.transition(
      credential,
      ["pending", "active", "revoking"],
      to,
      fields,
    );
    if (!item.revoked && moved.moved) {
      await deps.queue.enqueueRevocations([{ id: credential.id, taskId: credential.taskId }]);
    }
    await deps.audit.append({
      type: "credential.unrecorded",
      actor: "system:broker",
      task_id: credential.taskId,
      credential_id: credential.id,
      reason: STORE_UNAVAILABLE,
      details: { outcome: item.revoked ? "revoked" : "revoking", provider: credential.provider },
    });
    deps.metrics.unrecorded.inc({ outcome: "recorded", provider: credential.provider });
  }

  /** One pass: revoke if not yet done, then record. Returns whether the item is finished. */
  async function step(item: Held): Promise<boolean> {
    if (!item.revoked && item.issued) {
      await revoke(item).catch((err: unknown) => {
        item.attempts++;
        if (item.attempts === 1 || item.attempts % 20 === 0) {
          deps.logger.warn(
            { credential_id: item.credential.id, error: err instanceof Error ? err.message : String(err) },
            "cannot yet revoke an unrecorded credential; retrying",
          );
        }
      });
    }
    try {
      await record(item);
      return true;
    } catch {
      return false;
    }
  }

  function schedule(item: Held, delayMs: number): void {
    if (closed) return;
    item.timer = setTimeout(() => {
      void step(item).then((done) => {
        if (done) held.delete(item.credential.id);
        else schedule(item, Math.min(Math.max(delayMs * 2, FIRST_RETRY_MS), MAX_RETRY_MS));
      });
    }, delayMs);
    item.timer.unref();
  }

  return {
    adopt(credential, issued, provider) {
      if (held.has(credential.id)) return;
      const item: Held = { credential, issued, provider, revoked: false, attempts: 0 };
      held.set(credential.id, item);
      deps.logger.warn(
        { credential_id: credential.id, task_id: credential.taskId, provider: provider.kind },
        "issued credential could not be recorded: revoking it now",
      );
      schedule(item, 0);
    },
    abandon(credential, provider) {
      if (held.has(credential.id)) return;
      const item: Held = { credential, issued: null, provider, revoked: false, attempts: 0 };
      held.set(credential.id, item);
      schedule(item, FIRST_RETRY_MS);
    },
    held: () => held.size,
    async close(timeoutMs = 2_000) {
      closed = true;
      const items = [...held.values()];
      for (const item of items) clearTimeout(item.timer);
      const last = Promise.all(
        items.map(async (item) => (await step(item)) && held.delete(item.credential.id)),
      );
      await Promise.race([last, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
      for (const item of held.values()) {
        deps.metrics.unrecorded.inc({ outcome: "held", provider: item.provider.kind });
        deps.logger.error(
          { credential_id: item.credential.id, task_id: item.credential.taskId, revoked: item.revoked },
          "stopping with an unrecorded credential: the reconciler revokes it from its pending record",
        );
      }
    },
  };
}
