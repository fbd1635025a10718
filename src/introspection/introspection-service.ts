import type { JWTPayload } from "jose";
import { TransientProviderError } from "../../providers/provider-errors.js";
import type { IntrospectionResponse, SignerProvider } from "../../providers/signer/signer-provider.js";
import type { Principal } from "../auth/principal.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import type { Credential } from "../credentials/credential-types.js";
import { TASK_TOKEN_TYP, type TaskTokens } from "../oauth/task-tokens.js";
import type { Decide } from "../policy/decider.js";
import { epochSeconds, policyPrincipal } from "../policy/policy-context.js";
import type { CedarValue } from "../policy/policy-types.js";
import type { Clock } from "../shared/clock.js";
import { BrokerError } from "../shared/errors.js";
import { tokenTyp } from "../shared/jwt-header.js";

/**
 * RFC 7662 introspection of signer tokens, answered only to callers the policy allows (`Introspect` on
 * the token's profile). Everyone else gets `{"active": false}`, exactly the answer for a forged, expired,
 * revoked or unknown token, so the answer never tells a caller that a token exists. Inactive tokens need
 * no decision. A resource server (`rs:<client_id>`) sees only tokens whose `aud` is among its configured
 * `audiences`: outside them it gets the inactive answer before the policy is asked (no decision, like an
 * unrelated caller on a task route).
 */
export interface IntrospectionService {
  introspect(caller: Principal, token: string): Promise<IntrospectionAnswer>;
}

/**
 * A live task token (docs/oauth.md), answered only to a workload related to its task (its owners and
 * agents, as on the task routes): `token_type: "N_A"`, because it is not an access token.
 */
export type TaskTokenIntrospection = { active: true; token_type: "N_A" } & JWTPayload;
export type IntrospectionAnswer = IntrospectionResponse | TaskTokenIntrospection;

export interface IntrospectionServiceDeps {
  signer: Pick<SignerProvider, "introspect">;
  credentials: Pick<CredentialStore, "get">;
  decide: Decide;
  clock: Clock;
  taskTokens: Pick<TaskTokens, "resolve">;
}

const INACTIVE: IntrospectionResponse = { active: false };

export function createIntrospectionService(deps: IntrospectionServiceDeps): IntrospectionService {
  async function introspect(caller: Principal, token: string): Promise<IntrospectionAnswer> {
    if (tokenTyp(token) === TASK_TOKEN_TYP) return taskTokenAnswer(caller, token);
    const answer = await signerAnswer(token);
    if (!answer.active || typeof answer.jti !== "string") return INACTIVE;
    const credential = await deps.credentials.get(answer.jti);
    if (credential === null) return INACTIVE;
    const audiences = audiencesOf(answer);
    const allowedAudiences = caller.resourceServer?.audiences;
    if (allowedAudiences && !audiences.some((aud) => allowedAudiences.includes(aud))) return INACTIVE;
    const decision = await deps.decide(
      {
        action: "Introspect",
        principal: policyPrincipal(caller),
        resource: { type: "Profile", id: credential.profile, provider: credential.provider },
        context: introspectContext(caller, answer, credential, deps.clock.now()),
      },
      { taskId: credential.taskId, credentialId: credential.id },
    );
    return decision.effect === "allow" ? answer : INACTIVE;
  }

  async function signerAnswer(token: string): Promise<IntrospectionResponse> {
    try {
      return await deps.signer.introspect(token);
    } catch (cause) {
      if (cause instanceof TransientProviderError) {
        throw new BrokerError("unavailable", "The broker cannot check revocation right now.", { cause });
      }
      throw cause;
    }
  }

  async function taskTokenAnswer(caller: Principal, token: string): Promise<IntrospectionAnswer> {
    if (caller.resourceServer) return INACTIVE;
    const live = await deps.taskTokens.resolve(token).catch((cause: unknown) => {
      if (cause instanceof TransientProviderError) {
        throw new BrokerError("unavailable", "The broker cannot check task tokens right now.", { cause });
      }
      throw cause;
    });
    if (!live || !live.task.related.includes(caller.id)) return INACTIVE;
    return { ...live.claims, active: true, token_type: "N_A" };
  }

  return { introspect };
}

/** `context` of `Introspect` (docs/policy.md). */
function introspectContext(
  caller: Principal,
  claims: JWTPayload,
  credential: Credential,
  now: number,
): Record<string, CedarValue> {
  const agent = typeof claims.sub === "string" ? claims.sub : credential.agent;
  return {
    audience: audiencesOf(claims)[0] ?? "",
    scopes: credential.scopes,
    task_id: credential.taskId,
    agent,
    caller_is_agent: caller.resourceServer === undefined && caller.id === agent,
    now: epochSeconds(now),
  };
}

function audiencesOf(claims: JWTPayload): string[] {
  if (typeof claims.aud === "string") return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud : [];
}
