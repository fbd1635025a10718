import type { PendingApproval } from "../approvals/approval-service.js";
import type { RequestCredential } from "../approvals/request-credential.js";
import type { Principal } from "../auth/principal.js";
import type {
  CredentialRequest,
  CredentialService,
  IssuedResult,
} from "../credentials/credential-service.js";
import { BrokerError } from "../shared/errors.js";
import type { DpopChecker, DpopRequest } from "./dpop.js";
import { isOAuthError } from "./oauth-errors.js";

/**
 * `POST /v1/tasks/{id}/credentials` with an optional DPoP proof (RFC 9449, docs/oauth.md "DPoP"): without
 * one it is the plain request (approvals included); with one, the signer token is bound to the proof's key
 * (`cnf.jkt`, `token_type: DPoP`). A bound request is for signer profiles only, and is never held for a
 * human: an approval could not carry the key through redemption, so such a request is refused instead.
 */
export function createBoundCredentialRequest(deps: {
  requestCredential: RequestCredential;
  credentials: Pick<CredentialService, "request">;
  dpop: DpopChecker;
  /** Whether a profile issues tokens (signer), the only credentials a DPoP key can bind. */
  isTokenProfile: (profile: string) => boolean;
}) {
  async function keyOf(proof: DpopRequest & { header: string }): Promise<string> {
    try {
      return await deps.dpop.check(proof);
    } catch (err) {
      if (!isOAuthError(err)) throw err;
      throw new BrokerError("invalid_request", err.message, {
        details: { issues: [{ path: "DPoP", message: err.error }] },
        headers: err.headers,
      });
    }
  }

  return async (
    principal: Principal,
    taskId: string,
    input: CredentialRequest,
    proof: DpopRequest,
  ): Promise<IssuedResult | PendingApproval> => {
    if (proof.header === undefined) return deps.requestCredential(principal, taskId, input);
    if (!deps.isTokenProfile(input.profile)) {
      throw new BrokerError("invalid_request", "A DPoP proof can bind only signer tokens.", {
        details: { issues: [{ path: "DPoP", message: `profile ${input.profile} issues no tokens` }] },
      });
    }
    const jkt = await keyOf({ ...proof, header: proof.header });
    const outcome = await deps.credentials.request(principal, taskId, { ...input, confirmation: { jkt } });
    if (outcome.kind === "held_for_approval") {
      throw new BrokerError(
        "invalid_request",
        "This request needs a human's approval; send it without DPoP.",
        {
          details: {
            issues: [{ path: "DPoP", message: "a DPoP-bound request cannot wait for an approval" }],
          },
        },
      );
    }
    return outcome.issued;
  };
}

export type BoundCredentialRequest = ReturnType<typeof createBoundCredentialRequest>;
