import type { JWTPayload } from "jose";
import { TransientProviderError } from "../../providers/provider-errors.js";
import type { Principal } from "../auth/principal.js";
import type { CredentialService } from "../credentials/credential-service.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import { isBrokerError } from "../shared/errors.js";
import { tokenTyp } from "../shared/jwt-header.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";
import { OAuthError } from "./oauth-errors.js";
import { TASK_TOKEN_TYP, TASK_TOKEN_TYPE_URI, type TaskTokens } from "./task-tokens.js";
import { optionalParam, requiredParam, scopeParam, type TokenParams } from "./token-params.js";

/** RFC 8693 §2.1. */
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
/** RFC 8693 §3 token type identifiers the exchange reads and writes. */
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
export const JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";

/** The subject of an exchange: the task and agent it is bound to, its scopes, `exp` and `act` chain. */
interface ExchangeSubject {
  task: Task;
  agent: Principal;
  /** Scopes the subject carries; null for a task token (it carries none: the profile's bound applies). */
  scopes: string[] | null;
  /** Epoch seconds. */
  exp: number;
  /** Actors already in the subject's `act` claim beyond the task's delegation chain, outermost first. */
  actors: string[];
  /** The subject's `cnf.jkt` when it is DPoP-bound: the exchange must prove the same key. */
  jkt?: string;
}

export interface TokenExchangeDeps {
  taskTokens: Pick<TaskTokens, "resolve">;
  /** The payload of a live signer access token (signature, `typ`, `iss`, `exp`, deny-list), else undefined. */
  liveAccessToken: (token: string) => Promise<JWTPayload | undefined>;
  credentials: Pick<CredentialStore, "get">;
  tasks: Pick<TaskStore, "get">;
  verifyWorkload: (assertion: string) => Promise<Principal>;
  agentPrincipal: (task: Task) => Principal;
  credentialService: Pick<CredentialService, "request">;
  now: () => number;
}

/** Flattens a nested RFC 8693 `act` claim to the chain of actors, outermost (oldest) first. */
export function actorChain(act: unknown): string[] {
  const chain: string[] = [];
  let node: unknown = act;
  while (typeof node === "object" && node !== null && "sub" in node && typeof node.sub === "string") {
    chain.unshift(node.sub);
    node = "act" in node ? node.act : undefined;
  }
  return chain;
}

/**
 * RFC 8693 token exchange for one hop of a task (docs/oauth.md "Token exchange"): the subject is a live
 * broker access token or task token, the actor the caller's workload JWT (required: every hop is
 * authenticated and recorded). The result is a new credential of the same task, through the credential
 * service (`RequestCredential` for the task's agent, `context.reason` naming the actor), with scopes ⊆ the
 * subject's, `exp` ≤ the subject's and the `act` chain extended with the actor.
 */
export function createTokenExchange(deps: TokenExchangeDeps) {
  async function subjectOf(token: string, type: string): Promise<ExchangeSubject> {
    const typ = tokenTyp(token);
    if (type === TASK_TOKEN_TYPE_URI) {
      if (typ !== TASK_TOKEN_TYP)
        throw new OAuthError("invalid_request", "subject_token is not a task token.");
      const live = await deps.taskTokens.resolve(token);
      if (!live)
        throw new OAuthError("invalid_grant", "The task token is not valid, or its task is no longer open.");
      const exp = typeof live.claims.exp === "number" ? live.claims.exp : 0;
      return { task: live.task, agent: deps.agentPrincipal(live.task), scopes: null, exp, actors: [] };
    }
    if (type !== ACCESS_TOKEN_TYPE && type !== JWT_TOKEN_TYPE) {
      throw new OAuthError("invalid_request", `subject_token_type ${type} is not supported.`);
    }
    const claims = await deps.liveAccessToken(token).catch((cause: unknown) => {
      if (cause instanceof TransientProviderError) {
        throw new OAuthError("temporarily_unavailable", "The broker cannot check tokens right now.", {
          cause,
        });
      }
      throw cause;
    });
    const credential = typeof claims?.jti === "string" ? await deps.credentials.get(claims.jti) : null;
    const task = credential ? await deps.tasks.get(credential.taskId) : null;
    if (!claims || !credential || !task || typeof claims.exp !== "number") {
      throw new OAuthError("invalid_grant", "subject_token is not a live access token of this broker.");
    }
    // The record decides, not only the deny-list: a token whose revocation is under way (revoking, or
    // revoke_failed) or whose task is closing is not exchanged.
    if (credential.state !== "active" || task.state !== "open") {
      throw new OAuthError("invalid_grant", "subject_token is revoked, or its task is no longer open.");
    }
    const chain = actorChain(claims.act);
    const cnf = claims.cnf;
    const jkt = typeof cnf === "object" && cnf !== null && "jkt" in cnf ? cnf.jkt : undefined;
    return {
      task,
      agent: deps.agentPrincipal(task),
      scopes: credential.scopes,
      exp: claims.exp,
      actors: chain.slice(task.actChain.length),
      ...(typeof jkt === "string" ? { jkt } : {}),
    };
  }

  async function actorOf(params: TokenParams): Promise<Principal> {
    const token = optionalParam(params, "actor_token");
    if (token === undefined) {
      throw new OAuthError(
        "invalid_request",
        "actor_token is required: every hop authenticates with its workload JWT.",
      );
    }
    if (optionalParam(params, "actor_token_type") !== JWT_TOKEN_TYPE) {
      throw new OAuthError("invalid_request", `actor_token_type must be ${JWT_TOKEN_TYPE}.`);
    }
    try {
      return await deps.verifyWorkload(token);
    } catch (err) {
      if (isBrokerError(err) && err.code === "invalid_assertion") {
        throw new OAuthError("invalid_grant", `actor_token: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  /** Runs the exchange for `profile`; the caller maps the issued credential to the token response. */
  return async function exchange(
    params: TokenParams,
    profile: { name: string; scopes: readonly string[] },
    bound: { confirmation?: { jkt: string } } = {},
  ) {
    const subject = await subjectOf(
      requiredParam(params, "subject_token"),
      requiredParam(params, "subject_token_type"),
    );
    if (subject.jkt !== undefined && bound.confirmation?.jkt !== subject.jkt) {
      throw new OAuthError(
        "invalid_grant",
        "subject_token is DPoP-bound: the exchange must carry a DPoP proof of the same key.",
      );
    }
    const actor = await actorOf(params);
    const offered = subject.scopes ?? [...profile.scopes];
    const asked = scopeParam(params);
    const scopes = asked.length > 0 ? asked : offered.filter((scope) => profile.scopes.includes(scope));
    const wider = scopes.filter((scope) => !offered.includes(scope));
    if (wider.length > 0) {
      throw new OAuthError("invalid_scope", `Scopes beyond the subject token's: ${wider.join(" ")}.`);
    }
    const ttlSeconds = Math.floor(subject.exp - deps.now() / 1000);
    if (ttlSeconds < 1) throw new OAuthError("invalid_grant", "subject_token expires too soon to exchange.");
    const outcome = await deps.credentialService.request(subject.agent, subject.task.id, {
      profile: profile.name,
      scopes,
      ttlSeconds,
      reason: `OAuth token exchange by ${actor.id}`,
      actors: [...subject.actors, actor.id],
      ...bound,
    });
    if (outcome.kind === "held_for_approval") {
      throw new OAuthError(
        "invalid_grant",
        "The policy requires a human's approval for this token; token exchange does not wait for approvals.",
      );
    }
    return outcome.issued;
  };
}

export type TokenExchange = ReturnType<typeof createTokenExchange>;
