import type { RequestCredential } from "../approvals/request-credential.js";
import { createRedisReplayGuard } from "../auth/replay-guard.js";
import { ASSERTION_ALGORITHMS } from "../config/config-schema.js";
import { createBoundCredentialRequest } from "../oauth/bound-credential-request.js";
import { createCibaPollStore } from "../oauth/ciba-poll-store.js";
import { createDpopChecker, DPOP_ALGORITHMS } from "../oauth/dpop.js";
import { createDpopNonces } from "../oauth/dpop-nonces.js";
import { createGrantSubjects } from "../oauth/grant-subject.js";
import { buildAuthorizationServerMetadata } from "../oauth/oauth-metadata.js";
import { createTaskPrincipals } from "../oauth/task-principal.js";
import { createTaskTokenService } from "../oauth/task-token-service.js";
import { createTaskTokens } from "../oauth/task-tokens.js";
import { createTokenExchange } from "../oauth/token-exchange.js";
import { createTokenService, GRANT_TYPES, type TokenProfile } from "../oauth/token-service.js";
import type { TaskService } from "../tasks/task-service.js";
import type { CoreServices } from "./core-services.js";
import type { Infrastructure } from "./infrastructure.js";

/** The OAuth side's services (docs/oauth.md): task tokens, the token endpoint's grants, DPoP. */
export function buildOAuthServices(
  infra: Infrastructure,
  core: CoreServices,
  api: { taskService: TaskService; requestCredential: RequestCredential },
) {
  const { config, tasks, credentials, clock, redis, keyPrefix } = infra;
  const taskTokens = createTaskTokens({
    signer: infra.signer,
    tasks,
    clock,
    ttlSeconds: config.oauth.task_token_ttl_seconds,
  });
  const dpop = createDpopChecker({
    replayGuard: createRedisReplayGuard({ redis, keyPrefix, clock }),
    nonces: config.oauth.dpop_require_nonce ? createDpopNonces({ redis, keyPrefix, clock }) : undefined,
    clock,
  });
  const agentPrincipal = createTaskPrincipals(new Map(config.issuers.map((i) => [i.name, i.kind])));
  const verifyWorkload = (assertion: string) => core.verifier.verify(assertion);
  const exchange = createTokenExchange({
    taskTokens,
    liveAccessToken: async (token) => {
      const answer = await infra.signer.introspect(token);
      return answer.active ? answer : undefined;
    },
    credentials,
    tasks,
    verifyWorkload,
    agentPrincipal,
    credentialService: core.credentialService,
    now: () => clock.now(),
  });
  return {
    taskTokens,
    taskTokenService: createTaskTokenService({
      taskService: api.taskService,
      tokens: taskTokens,
      now: () => clock.now(),
    }),
    tokens: createTokenService({
      subjects: createGrantSubjects({ taskTokens, verifyWorkload, agentPrincipal }),
      dpop,
      exchange,
      requestCredential: api.requestCredential,
      approvals: core.approvals,
      polls: createCibaPollStore({ redis, keyPrefix }),
      profiles: tokenProfiles(infra),
      clock,
      pollIntervalSeconds: config.oauth.ciba_interval_seconds,
    }),
    boundRequestCredential: createBoundCredentialRequest({
      requestCredential: api.requestCredential,
      credentials: core.credentialService,
      dpop,
      isTokenProfile: (profile) => infra.registry.forProfile(profile)?.kind === "signer",
    }),
  };
}

/** The signer profiles: the token endpoint issues only these, chosen by audience. */
function tokenProfiles(infra: Infrastructure): TokenProfile[] {
  return Object.entries(infra.config.profiles).flatMap(([name, profile]) =>
    profile.provider === "signer" ? [{ name, audience: profile.audience, scopes: profile.scopes }] : [],
  );
}

/** The RFC 8414 document: only what this broker serves. */
export function authorizationServerMetadata(infra: Infrastructure) {
  return buildAuthorizationServerMetadata({
    issuer: infra.signer.issuer,
    publicUrl: infra.config.server.public_url,
    scopes: tokenProfiles(infra).flatMap((profile) => profile.scopes),
    clientAssertionAlgorithms: ASSERTION_ALGORITHMS,
    grantTypes: GRANT_TYPES,
    dpopAlgorithms: DPOP_ALGORITHMS,
  });
}
