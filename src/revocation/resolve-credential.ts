import type { AuditLog } from "../audit/audit-log.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import type { Credential } from "../credentials/credential-types.js";
import type { Clock } from "../shared/clock.js";
import { BrokerError, notFound } from "../shared/errors.js";
import type { TaskCloser } from "./task-closer.js";

/**
 * An operator's way out of revoke_failed: they confirmed by hand that the credential is dead downstream (or
 * accepted that it lives until its expiry) and say why. The credential becomes `resolved` (settled), the
 * decision is audited with the reason and shown in the task's evidence, and the task can finish closing.
 */
export function createResolveCredential(deps: {
  credentials: Pick<CredentialStore, "get" | "transition">;
  closer: Pick<TaskCloser, "completeIfSettled">;
  audit: Pick<AuditLog, "append">;
  clock: Clock;
}) {
  return async (actor: string, credentialId: string, reason: string): Promise<Credential> => {
    const credential = await deps.credentials.get(credentialId);
    if (!credential) throw notFound("Credential");
    const at = deps.clock.now();
    const result = await deps.credentials.transition(credential, ["revoke_failed"], "resolved", {
      resolved_by: actor,
      resolved_at: String(at),
      resolve_reason: reason,
    });
    if (!result.moved) {
      throw new BrokerError(
        "invalid_request",
        `Only a credential in revoke_failed can be resolved by hand; this one is ${result.current ?? "gone"}.`,
      );
    }
    await deps.audit.append({
      type: "credential.resolved",
      actor,
      task_id: credential.taskId,
      credential_id: credential.id,
      reason,
      details: { last_error: credential.lastError ?? "", failure_kind: credential.failureKind ?? "" },
    });
    await deps.closer.completeIfSettled(credential.taskId, actor);
    return { ...credential, state: "resolved", resolution: { by: actor, at, reason } };
  };
}
