import type { Principal } from "../auth/principal.js";
import type {
  CredentialRequest,
  CredentialService,
  IssuedResult,
} from "../credentials/credential-service.js";
import type { ApprovalService, PendingApproval } from "./approval-service.js";

/**
 * `POST /v1/tasks/{id}/credentials`: the credential service issues or reports the request held for a
 * human; a held request becomes an approval here. The hand-off runs one way, approvals → credentials.
 */
export function createRequestCredential(deps: {
  credentials: Pick<CredentialService, "request">;
  approvals: Pick<ApprovalService, "open">;
}) {
  return async (
    principal: Principal,
    taskId: string,
    input: CredentialRequest,
  ): Promise<IssuedResult | PendingApproval> => {
    const outcome = await deps.credentials.request(principal, taskId, input);
    return outcome.kind === "issued" ? outcome.issued : deps.approvals.open(outcome.held);
  };
}

export type RequestCredential = ReturnType<typeof createRequestCredential>;
