import type { AuditLog } from "../audit/audit-log.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import type { Credential } from "../credentials/credential-types.js";
import { BrokerError, notFound } from "../shared/errors.js";
import type { RevocationQueue } from "./revocation-queue.js";

/** An operator's "retry now" for a credential in revoke_failed: back to revoking, queued afresh. */
export function createRetryRevocation(deps: {
  credentials: Pick<CredentialStore, "get" | "transition">;
  queue: Pick<RevocationQueue, "enqueueRevocations">;
  audit: Pick<AuditLog, "append">;
}) {
  return async (actor: string, credentialId: string): Promise<Credential> => {
    const credential = await deps.credentials.get(credentialId);
    if (!credential) throw notFound("Credential");
    if (credential.state === "revoking") return credential;
    const result = await deps.credentials.transition(credential, ["revoke_failed"], "revoking", {
      revoke_attempts: "0",
    });
    if (!result.moved) {
      throw new BrokerError(
        "invalid_request",
        `Only a credential in revoke_failed can be retried; this one is ${credential.state}.`,
      );
    }
    await deps.queue.enqueueRevocations([{ id: credential.id, taskId: credential.taskId }]);
    await deps.audit.append({
      type: "credential.retry",
      actor,
      task_id: credential.taskId,
      credential_id: credential.id,
    });
    return { ...credential, state: "revoking" };
  };
}
