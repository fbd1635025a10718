import type { JWTPayload } from "jose";
import type { AuditLog } from "../audit/audit-log.js";
import type { Principal } from "../auth/principal.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import type { IntrospectionService } from "../introspection/introspection-service.js";
import type { RevocationQueue } from "../revocation/revocation-queue.js";
import { tokenTyp } from "../shared/jwt-header.js";
import { OAuthError } from "./oauth-errors.js";
import { TASK_TOKEN_TYP } from "./task-tokens.js";

/** `revoke_reason` of a credential revoked at the RFC 7009 endpoint. */
export const OAUTH_REVOKE_REASON = "oauth_revocation";

/**
 * RFC 7009 token revocation of signer tokens (docs/oauth.md "Revocation"). A caller may revoke a token it
 * could introspect as active (the `Introspect` decision, audited) and that is its own: the token's agent, or a
 * resource server among whose audiences the token's `aud` is. Only that credential is revoked, through the
 * same path as a closing task (`active → revoking`, `credential.revoking`, the revocation queue); its task
 * stays open. Any other token is answered as revoked (RFC 7009 §2.2: an invalid token is no error); task
 * tokens are `unsupported_token_type`: they end with their task.
 */
export function createTokenRevocation(deps: {
  introspection: IntrospectionService;
  credentials: Pick<CredentialStore, "get" | "transition">;
  queue: Pick<RevocationQueue, "enqueueRevocations">;
  audit: Pick<AuditLog, "append">;
}) {
  return async function revoke(caller: Principal, token: string): Promise<void> {
    if (tokenTyp(token) === TASK_TOKEN_TYP) {
      throw new OAuthError(
        "unsupported_token_type",
        "A task token cannot be revoked on its own; close its task (POST /v1/tasks/{id}/close).",
      );
    }
    const answer = await deps.introspection.introspect(caller, token);
    if (!answer.active || answer.token_type === "N_A" || !ownsToken(caller, answer)) return;
    const credential = typeof answer.jti === "string" ? await deps.credentials.get(answer.jti) : null;
    if (!credential) return;
    const moved = await deps.credentials.transition(credential, ["active"], "revoking", {
      revoke_reason: OAUTH_REVOKE_REASON,
    });
    if (!moved.moved) return;
    await deps.audit.append({
      type: "credential.revoking",
      actor: caller.id,
      task_id: credential.taskId,
      credential_id: credential.id,
      reason: OAUTH_REVOKE_REASON,
    });
    await deps.queue.enqueueRevocations([{ id: credential.id, taskId: credential.taskId }]);
  };
}

export type TokenRevocation = ReturnType<typeof createTokenRevocation>;

function ownsToken(caller: Principal, claims: JWTPayload): boolean {
  const audiences = caller.resourceServer?.audiences;
  if (audiences === undefined) return claims.sub === caller.id;
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return aud.some((value) => typeof value === "string" && audiences.includes(value));
}
