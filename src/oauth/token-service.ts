import type { ApprovalService } from "../approvals/approval-service.js";
import type { RequestCredential } from "../approvals/request-credential.js";
import type { IssuedResult } from "../credentials/credential-service.js";
import type { Clock } from "../shared/clock.js";
import { isBrokerError } from "../shared/errors.js";
import { type CibaGrantDeps, createCibaGrant } from "./ciba-grant.js";
import type { DpopChecker, DpopRequest } from "./dpop.js";
import type { GrantSubjects } from "./grant-subject.js";
import { fromBrokerError, OAuthError } from "./oauth-errors.js";
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, type TokenExchange } from "./token-exchange.js";
import { optionalParam, requiredParam, resourceParam, scopeParam, type TokenParams } from "./token-params.js";
import type { TokenResponse } from "./token-response.js";

export type { TokenResponse } from "./token-response.js";

/** RFC 7523 §2.1. */
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** CIBA Core §10.1. */
export const CIBA_GRANT = "urn:openid:params:grant-type:ciba";

/** The grant types the token endpoint accepts, in the order the metadata lists them. */
export const GRANT_TYPES = [JWT_BEARER_GRANT, CIBA_GRANT, TOKEN_EXCHANGE_GRANT] as const;

/** A signer profile as the token endpoint selects it: by its audience (RFC 8707 `resource`). */
export interface TokenProfile {
  name: string;
  audience: string;
  scopes: readonly string[];
}

export interface TokenServiceDeps {
  subjects: GrantSubjects;
  requestCredential: RequestCredential;
  approvals: Pick<ApprovalService, "load" | "view">;
  polls: CibaGrantDeps["polls"];
  exchange: TokenExchange;
  dpop: DpopChecker;
  /** The signer profiles; tokens come only from these. */
  profiles: readonly TokenProfile[];
  clock: Clock;
  /** CIBA `interval`: the least time between two polls of one approval. */
  pollIntervalSeconds: number;
}

/** The `reason` recorded with a credential requested at the token endpoint (audit and policy context). */
const JWT_BEARER_REASON = "OAuth token endpoint: jwt-bearer grant";

/**
 * The token endpoint's grants (docs/oauth.md "Token endpoint"). Every token is a credential of its task,
 * requested through the same path as `POST /v1/tasks/{id}/credentials`: the relationship check, the
 * `RequestCredential` decision, the TTL rule, quotas, audit events and approvals are that path's.
 */
export function createTokenService(deps: TokenServiceDeps) {
  const { clock } = deps;

  function profileFor(resource: string): TokenProfile {
    const matches = deps.profiles.filter((profile) => profile.audience === resource);
    const [match] = matches;
    if (match === undefined) {
      throw new OAuthError("invalid_target", `No signer profile issues tokens for the resource ${resource}.`);
    }
    if (matches.length > 1) {
      const names = matches.map((profile) => profile.name).join(", ");
      throw new OAuthError(
        "invalid_target",
        `The resource ${resource} is the audience of several profiles (${names}).`,
      );
    }
    return match;
  }

  function tokenResponse(issued: IssuedResult): TokenResponse {
    const token = issued.secret.token;
    if (typeof token !== "string") throw new OAuthError("server_error", "The credential is not a token.");
    const expiresAt = issued.credential.expiresAt ?? clock.now();
    const scopes = issued.credential.scopes;
    return {
      access_token: token,
      token_type: issued.secret.token_type === "DPoP" ? "DPoP" : "Bearer",
      expires_in: Math.max(0, Math.floor((expiresAt - clock.now()) / 1000)),
      ...(scopes.length > 0 ? { scope: scopes.join(" ") } : {}),
    };
  }

  /** The key a DPoP proof binds the token to, when the request carries one. */
  async function confirmation(dpop: DpopRequest): Promise<{ confirmation?: { jkt: string } }> {
    if (dpop.header === undefined) return {};
    return { confirmation: { jkt: await deps.dpop.check({ ...dpop, header: dpop.header }) } };
  }

  async function jwtBearer(params: TokenParams, dpop: DpopRequest): Promise<TokenResponse> {
    const assertion = requiredParam(params, "assertion");
    const profile = profileFor(resourceParam(params));
    const scopes = scopeParam(params);
    const outside = scopes.filter((scope) => !profile.scopes.includes(scope));
    if (outside.length > 0) {
      throw new OAuthError("invalid_scope", `Scopes not offered for this resource: ${outside.join(" ")}.`);
    }
    const subject = await deps.subjects(assertion, optionalParam(params, "task_id"));
    if (subject.taskId === undefined) {
      throw new OAuthError(
        "invalid_grant",
        "A workload JWT names no task. Open one with POST /v1/tasks and present its task_token as the " +
          "assertion, or send task_id with the workload JWT.",
      );
    }
    const bound = await confirmation(dpop);
    const outcome = await deps
      .requestCredential(subject.principal, subject.taskId, {
        profile: profile.name,
        scopes,
        reason: JWT_BEARER_REASON,
        ...bound,
      })
      .catch((err: unknown) => {
        throw asTokenError(err);
      });
    if ("approvalId" in outcome) throw authorizationPending(outcome.approvalId, outcome.expiresAt);
    return tokenResponse(outcome);
  }

  function authorizationPending(approvalId: string, expiresAt: number): OAuthError {
    return new OAuthError(
      "authorization_pending",
      "The request waits for a human's approval: poll with the CIBA grant and this auth_req_id.",
      {
        extra: {
          auth_req_id: approvalId,
          expires_in: Math.max(0, Math.floor((expiresAt - clock.now()) / 1000)),
          interval: deps.pollIntervalSeconds,
        },
      },
    );
  }

  const ciba = createCibaGrant({ ...deps, tokenResponse, asTokenError });

  /** RFC 8693: `resource` or `audience` names the target (the same one when both are given). */
  async function tokenExchange(params: TokenParams, dpop: DpopRequest): Promise<TokenResponse> {
    const audience = optionalParam(params, "audience");
    const resource =
      params.resource === undefined && audience !== undefined ? audience : resourceParam(params);
    if (audience !== undefined && audience !== resource) {
      throw new OAuthError("invalid_target", "resource and audience name different targets.");
    }
    const profile = profileFor(resource);
    const bound = await confirmation(dpop);
    const issued = await deps.exchange(params, profile, bound).catch((err: unknown) => {
      throw asTokenError(err);
    });
    return { ...tokenResponse(issued), issued_token_type: ACCESS_TOKEN_TYPE };
  }

  /** Runs one token request; every failure is an OAuthError (or an unexpected error, a 5xx). */
  async function grant(params: TokenParams, dpop: DpopRequest): Promise<TokenResponse> {
    const grantType = requiredParam(params, "grant_type");
    if (grantType === JWT_BEARER_GRANT) return jwtBearer(params, dpop);
    if (grantType === TOKEN_EXCHANGE_GRANT) return tokenExchange(params, dpop);
    if (grantType === CIBA_GRANT) {
      if (dpop.header !== undefined) {
        throw new OAuthError(
          "invalid_request",
          "DPoP binding is not offered when redeeming an approval (CIBA).",
        );
      }
      return ciba(params);
    }
    throw new OAuthError("unsupported_grant_type", `The grant type ${grantType} is not supported.`);
  }

  return { grant };
}

export type TokenService = ReturnType<typeof createTokenService>;

/**
 * A broker error in the token endpoint's terms. A profile outside the task's `profiles` is the resource
 * the task may not reach (`invalid_target`), a scope outside the profile's is `invalid_scope`.
 */
function asTokenError(err: unknown): unknown {
  if (!isBrokerError(err)) return err;
  if (err.code === "scope_not_allowed" && err.details?.scopes === undefined) {
    return new OAuthError("invalid_target", err.message, { cause: err });
  }
  return fromBrokerError(err);
}
