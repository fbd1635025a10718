import {
  type AuthorizationError,
  type DetailedError,
  type EntityJson,
  type EntityUidJson,
  preparsePolicySet,
  preparseSchema,
  statefulIsAuthorized,
} from "@cedar-policy/cedar-wasm/nodejs";
import { type Clock, systemClock, toIso } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { BROKER_ENTITY_ID, CEDAR_NAMESPACE, CEDAR_SCHEMA, SCHEMA_NAME } from "./cedar-schema.js";
import { createDecisionCache, type DecisionCache, type DecisionCacheStats } from "./decision-cache.js";
import { type LoadedPolicy, type LoadedPolicySet, loadPolicyFiles } from "./policy-loader.js";
import { analysePolicyReads } from "./policy-reads.js";
import { type CedarValue, type Decision, POLICY_ACTIONS, type PolicyRequest } from "./policy-types.js";

export interface PolicyEngineDeps {
  /** Policy file patterns from `policy.files` (literal paths or `*` / `**` globs). */
  files: string[];
  /** Directory the patterns are relative to (the config file's directory). */
  baseDir: string;
  logger: Pick<Logger, "info" | "warn" | "error">;
  clock?: Clock;
  /** `policy.decision_cache_size`: decisions remembered per policy set; 0 asks Cedar every time. */
  decisionCacheSize?: number;
}

/** What is loaded now: for `/readyz`, the admin API and audit. */
export interface PolicySetInfo {
  hash: string;
  /** Policy ids in file order. */
  policyIds: string[];
  /** RFC 3339 time the active set was loaded. */
  loadedAt: string;
  count: number;
}

export type PolicyReloadResult = { ok: true; hash: string } | { ok: false; error: string };

export interface PolicyEngine {
  /**
   * Decides one request against the active set. Throws (a programmer error) when the request does not
   * match the schema, e.g. a missing or mistyped context field.
   */
  authorize(request: PolicyRequest): Decision;
  /** Loads the files anew; a broken set is refused, logged and the previous set stays active. */
  reload(): PolicyReloadResult;
  info(): PolicySetInfo;
  /** How the active set's decision cache is doing (for metrics). */
  cacheStats(): DecisionCacheStats;
}

interface ActivePolicySet extends LoadedPolicySet {
  policySetId: string;
  loadedAt: string;
  /** Decisions of this set only: a reload starts with an empty cache. */
  cache: DecisionCache;
}

interface Evaluation {
  decision: "allow" | "deny";
  reason: string[];
  /** Policies that failed to evaluate: such a decision is logged every time, never cached. */
  errors: number;
}

type Entities = ReturnType<typeof entitiesFor>;

/**
 * Loads, validates and pre-parses the policy set; throws `PolicyLoadError` when it is broken, so the
 * broker refuses to start. Decision rules: docs/policy.md.
 */
export function createPolicyEngine(deps: PolicyEngineDeps): PolicyEngine {
  const { files, baseDir, logger } = deps;
  const clock = deps.clock ?? systemClock;
  preparseCedarSchema();

  const load = (): ActivePolicySet => {
    const set = loadPolicyFiles(files, baseDir);
    for (const warning of set.warnings) logger.warn({ warning }, "policy validation warning");
    if (set.policies.size === 0) {
      logger.warn(
        { files },
        "no policies are loaded: every action is denied (set policy.files; examples/policies/ has examples)",
      );
    }
    // Keyed by content: a new set never replaces the active one in cedar-wasm's cache before it is
    // ready, and reloading an unchanged set reuses its entry (the cache has no eviction).
    const policySetId = `credbroker-policies:${set.hash}`;
    const staticPolicies = Object.fromEntries([...set.policies.values()].map((p) => [p.id, p.text]));
    const answer = preparsePolicySet(policySetId, { staticPolicies });
    if (answer.type === "failure") {
      throw new Error(`cedar-wasm refused a validated policy set: ${formatErrors(answer.errors)}`);
    }
    const reads = analysePolicyReads(
      [...set.policies.values()].map((p) => p.text),
      POLICY_ACTIONS,
    );
    const cache = createDecisionCache(reads, deps.decisionCacheSize ?? DEFAULT_DECISION_CACHE_SIZE);
    return { ...set, policySetId, loadedAt: toIso(clock.now()), cache };
  };

  let active = load();
  logger.info(
    { policy_set_hash: active.hash, policies: active.policies.size, files: active.files },
    "policy set loaded",
  );

  const evaluate = (
    set: ActivePolicySet,
    request: PolicyRequest,
    entities: Entities,
    context: Record<string, CedarValue>,
  ): Evaluation => {
    const answer = statefulIsAuthorized({
      principal: entities.principal.uid,
      action: { type: `${CEDAR_NAMESPACE}::Action`, id: request.action },
      resource: entities.uid,
      context,
      entities: [entities.principal, entities.resource],
      preparsedSchemaName: SCHEMA_NAME,
      validateRequest: true,
      preparsedPolicySetId: set.policySetId,
    });
    if (answer.type === "failure") {
      throw new Error(`malformed policy request for ${request.action}: ${formatErrors(answer.errors)}`);
    }
    const { errors } = answer.response.diagnostics;
    logEvaluationErrors(logger, request, errors);
    return {
      decision: answer.response.decision,
      reason: [...answer.response.diagnostics.reason].sort(),
      errors: errors.length,
    };
  };

  /** Cedar's answer, and whether every evaluation was clean (so the decision may be remembered). */
  const decide = (
    set: ActivePolicySet,
    request: PolicyRequest,
    entities: Entities,
  ): { clean: boolean; decision: Decision } => {
    const policySetHash = set.hash;
    const first = evaluate(set, request, entities, request.context);
    const clean = first.errors === 0;
    if (first.decision === "allow") {
      const maxTtlSeconds = smallestMaxTtl(first.reason.map((id) => set.policies.get(id)));
      return { clean, decision: { effect: "allow", policyIds: first.reason, maxTtlSeconds, policySetHash } };
    }
    if (first.reason.length === 0)
      return { clean, decision: { effect: "deny", policyIds: [], policySetHash } };
    const onlyApprovalForbids = first.reason.every((id) => {
      const policy = set.policies.get(id);
      return policy?.effect === "forbid" && policy.approvalRequired;
    });
    if (onlyApprovalForbids && request.context.approved === false) {
      const approved = evaluate(set, request, entities, { ...request.context, approved: true });
      const effect = approved.decision === "allow" ? "approval_required" : "deny";
      return {
        clean: clean && approved.errors === 0,
        decision: { effect, policyIds: first.reason, policySetHash },
      };
    }
    return { clean, decision: { effect: "deny", policyIds: first.reason, policySetHash } };
  };

  const authorize = (request: PolicyRequest): Decision => {
    const set = active;
    const entities = entitiesFor(request);
    const key = set.cache.keyOf({
      action: request.action,
      principal: entities.principal,
      resource: entities.resource,
      context: request.context,
    });
    const hit = key === null ? undefined : set.cache.get(key);
    if (hit) return hit;
    const { decision, clean } = decide(set, request, entities);
    if (key !== null && clean) set.cache.set(key, decision);
    return decision;
  };

  const reload = (): PolicyReloadResult => {
    const previous = active;
    try {
      active = load();
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      logger.error(
        { error, policy_set_hash: previous.hash },
        "policy reload refused; the previous policy set stays active",
      );
      return { ok: false, error };
    }
    logger.info(
      {
        policy_set_hash: active.hash,
        previous_policy_set_hash: previous.hash,
        changed: active.hash !== previous.hash,
        policies: active.policies.size,
      },
      "policy set reloaded",
    );
    return { ok: true, hash: active.hash };
  };

  const info = (): PolicySetInfo => ({
    hash: active.hash,
    policyIds: [...active.policies.keys()],
    loadedAt: active.loadedAt,
    count: active.policies.size,
  });

  return { authorize, reload, info, cacheStats: () => active.cache.stats() };
}

/** Idempotent: cedar-wasm keeps one process-wide entry under `SCHEMA_NAME`. */
const DEFAULT_DECISION_CACHE_SIZE = 10_000;

function preparseCedarSchema(): void {
  const answer = preparseSchema(SCHEMA_NAME, CEDAR_SCHEMA);
  if (answer.type === "failure")
    throw new Error(`the Cedar schema does not parse: ${formatErrors(answer.errors)}`);
}

function entityType(name: "Workload" | "ResourceServer" | "Task" | "Profile" | "Broker"): string {
  return `${CEDAR_NAMESPACE}::${name}`;
}

function entitiesFor(request: PolicyRequest): {
  principal: EntityJson & { uid: EntityUidJson };
  resource: EntityJson;
  uid: EntityUidJson;
} {
  const principal = principalEntity(request.principal);
  const r = request.resource;
  switch (r.type) {
    case "Task": {
      const uid = { type: entityType("Task"), id: r.id };
      return { principal, resource: { uid, attrs: { ...r.attrs }, parents: [], tags: { ...r.tags } }, uid };
    }
    case "Profile": {
      const uid = { type: entityType("Profile"), id: r.id };
      return { principal, resource: { uid, attrs: { provider: r.provider }, parents: [] }, uid };
    }
    case "Broker": {
      const uid = { type: entityType("Broker"), id: BROKER_ENTITY_ID };
      return { principal, resource: { uid, attrs: {}, parents: [] }, uid };
    }
  }
}

/** A Workload is named by its principal id, a ResourceServer by its client id (the principal's subject). */
function principalEntity(p: PolicyRequest["principal"]): EntityJson & { uid: EntityUidJson } {
  const attrs = { issuer: p.issuer, subject: p.subject, kind: p.kind };
  if (p.resourceServer) {
    return {
      uid: { type: entityType("ResourceServer"), id: p.subject },
      attrs: { ...attrs, audiences: [...p.resourceServer.audiences] },
      parents: [],
      tags: {},
    };
  }
  return { uid: { type: entityType("Workload"), id: p.id }, attrs, parents: [], tags: { ...p.tags } };
}

function smallestMaxTtl(policies: (LoadedPolicy | undefined)[]): number | undefined {
  let smallest: number | undefined;
  for (const policy of policies) {
    const ttl = policy?.maxTtlSeconds;
    if (ttl !== undefined && (smallest === undefined || ttl < smallest)) smallest = ttl;
  }
  return smallest;
}

function logEvaluationErrors(
  logger: Pick<Logger, "error">,
  request: PolicyRequest,
  errors: AuthorizationError[],
): void {
  for (const { policyId, error } of errors) {
    logger.error(
      { policy_id: policyId, action: request.action, principal: request.principal.id, error: error.message },
      "policy evaluation error; the policy did not apply",
    );
  }
}

function formatErrors(errors: DetailedError[]): string {
  return errors.map((e) => (e.help ? `${e.message} (help: ${e.help})` : e.message)).join("; ");
}
