import type { ApprovalService } from "../approvals/approval-service.js";
import type { Approval } from "../approvals/approval-types.js";
import type { Principal } from "../auth/principal.js";
import type { IssuedResult } from "../credentials/credential-service.js";
import { isBrokerError } from "../shared/errors.js";
import type { CibaPollStore } from "./ciba-poll-store.js";
import type { GrantSubjects } from "./grant-subject.js";
import { OAuthError } from "./oauth-errors.js";
import { optionalParam, requiredParam, type TokenParams } from "./token-params.js";
import type { TokenResponse } from "./token-response.js";

/** RFC 7523 §2.2: how the polling client proves it is the requester. */
const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface CibaGrantDeps {
  subjects: GrantSubjects;
  approvals: Pick<ApprovalService, "load" | "view">;
  polls: CibaPollStore;
  pollIntervalSeconds: number;
  tokenResponse: (issued: IssuedResult) => TokenResponse;
  asTokenError: (err: unknown) => unknown;
}

const unknownRequest = () => new OAuthError("invalid_grant", "Unknown auth_req_id.");

/**
 * CIBA poll mode over the broker's approvals (CIBA Core §10–11): `auth_req_id` is the approval id. The
 * client authenticates as the requester with `client_assertion` (its task token or workload JWT, RFC 7523
 * §2.2), so neither an approver nor anyone else who saw the id can collect the token. The approval yields
 * its token once, through the approvals service, which asks the policy again (`context.approved = true`).
 */
export function createCibaGrant(deps: CibaGrantDeps) {
  async function requester(params: TokenParams, approval: Approval): Promise<Principal> {
    if (optionalParam(params, "client_assertion_type") !== CLIENT_ASSERTION_TYPE) {
      throw new OAuthError(
        "invalid_client",
        `Authenticate with client_assertion_type=${CLIENT_ASSERTION_TYPE} and a client_assertion.`,
      );
    }
    const subject = await deps.subjects(requiredParam(params, "client_assertion"), approval.taskId);
    if (subject.principal.id !== approval.requester || subject.taskId !== approval.taskId) {
      throw unknownRequest();
    }
    return subject.principal;
  }

  async function load(approvalId: string): Promise<Approval> {
    try {
      return await deps.approvals.load(approvalId);
    } catch (err) {
      if (isBrokerError(err) && err.code === "not_found") throw unknownRequest();
      throw err;
    }
  }

  /** Pending, denied, expired, cancelled or already redeemed: the CIBA answer for each. */
  async function notApproved(approval: Approval): Promise<never> {
    switch (approval.state) {
      case "pending":
        if (!(await deps.polls.claim(approval.id, deps.pollIntervalSeconds * 1000))) {
          throw new OAuthError("slow_down", `Poll at most every ${deps.pollIntervalSeconds} s.`);
        }
        throw new OAuthError("authorization_pending", "The approval has not been decided yet.");
      case "denied":
        throw new OAuthError("access_denied", "The approver denied the request.");
      case "expired":
        throw new OAuthError("expired_token", "The approval expired before it was decided and redeemed.");
      case "cancelled":
        throw new OAuthError(
          "access_denied",
          `The approval was cancelled (${approval.note ?? "cancelled"}).`,
        );
      default:
        throw new OAuthError("invalid_grant", "The approval's token was already issued.");
    }
  }

  return async function ciba(params: TokenParams) {
    const approval = await load(requiredParam(params, "auth_req_id"));
    const principal = await requester(params, approval);
    if (approval.provider !== "signer") {
      throw new OAuthError(
        "invalid_grant",
        "This approval is for a credential that is not a token; collect it with GET /v1/approvals/{id}.",
      );
    }
    if (approval.state !== "approved") return notApproved(approval);
    const view = await deps.approvals.view(principal, approval.id).catch((err: unknown) => {
      throw deps.asTokenError(err);
    });
    if (!view.issued) return notApproved(view.approval);
    return deps.tokenResponse(view.issued);
  };
}
