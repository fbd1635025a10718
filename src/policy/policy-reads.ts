import { policyToJson } from "@cedar-policy/cedar-wasm/nodejs";
import type { PolicyAction } from "./policy-types.js";

/** The request variables a policy can read besides the action. */
export type EntityVar = "principal" | "resource";

/**
 * What the policies that may apply to one action read of a request: exactly the inputs their decision can
 * depend on. The decision cache keys on these and nothing else, so it is only as sound as this analysis;
 * anything the analysis cannot pin down makes the action `opaque` (never cached).
 */
export interface ActionReads {
  /** Dotted attribute paths read or tested with `has`, e.g. `principal.issuer`, `context.task.depth`. */
  paths: Set<string>;
  /** Entities whose identity matters (scope `==`/`in`, or the variable used as a value). */
  uids: Set<EntityVar>;
  /** Entities whose tags are read (`hasTag`/`getTag`). */
  tags: Set<EntityVar>;
  /** A read the analysis cannot project (e.g. the whole `context` as a value). */
  opaque: boolean;
}

/**
 * Inputs that change with the clock: a decision reading one of these (or a record containing one) holds
 * only for the instant it was made, so it is never cached.
 */
const TIME_DEPENDENT = ["context.now", "context.task.remaining_seconds"];

export const readsTime = (reads: ActionReads): boolean =>
  reads.opaque ||
  [...reads.paths].some((path) =>
    TIME_DEPENDENT.some(
      (time) => time === path || time.startsWith(`${path}.`) || path.startsWith(`${time}.`),
    ),
  );

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const emptyReads = (): ActionReads => ({ paths: new Set(), uids: new Set(), tags: new Set(), opaque: false });

/** `principal`, `context.task`, …: the dotted path an expression names, or null when it is not a chain. */
function chainOf(node: Json | undefined): string | null {
  if (!isObject(node)) return null;
  const variable = node.Var;
  if (typeof variable === "string") return variable;
  const access = node["."];
  if (isObject(access) && typeof access.attr === "string") {
    const left = chainOf(access.left);
    return left === null ? null : `${left}.${access.attr}`;
  }
  return null;
}

function visit(node: Json | undefined, reads: ActionReads): void {
  if (Array.isArray(node)) {
    for (const item of node) visit(item, reads);
    return;
  }
  if (!isObject(node)) return;
  for (const [op, body] of Object.entries(node)) visitOperator(op, body, reads);
}

function visitOperator(op: string, body: Json, reads: ActionReads): void {
  if (op === "Value") return;
  if (op === "Record") {
    // A record literal's keys are attribute names, not operators: only its values are expressions.
    if (isObject(body)) for (const value of Object.values(body)) visit(value, reads);
    else reads.opaque = true;
    return;
  }
  if (op === "Var") {
    if (body === "principal" || body === "resource") reads.uids.add(body);
    else if (body !== "action") reads.opaque = true;
    return;
  }
  if ((op === "." || op === "has") && isObject(body)) {
    // `has` may test a path at once (`context has task.depth`): its value decides, so project all of it.
    const attrs = typeof body.attr === "string" ? [body.attr] : body.attr;
    const left = chainOf(body.left);
    if (Array.isArray(attrs) && attrs.every((attr) => typeof attr === "string") && left !== null) {
      reads.paths.add([left, ...attrs].join("."));
      return;
    }
    // An attribute of something other than a variable chain (an if-then-else of entities, say): unprojectable.
    reads.opaque = true;
    visit(body.left, reads);
    return;
  }
  if ((op === "hasTag" || op === "getTag") && isObject(body)) {
    const left = body.left;
    if (isObject(left) && (left.Var === "principal" || left.Var === "resource")) reads.tags.add(left.Var);
    else {
      reads.opaque = true;
      visit(left, reads);
    }
    visit(body.right, reads);
    return;
  }
  visit(body, reads);
}

function visitScope(variable: EntityVar, scope: Json | undefined, reads: ActionReads): void {
  if (!isObject(scope)) return;
  // `All` and `is` depend on the entity type only, which is always part of the key.
  if (scope.op !== "All" && scope.op !== "is") reads.uids.add(variable);
  if (scope.op === "is" && scope.in !== undefined) reads.uids.add(variable);
}

/** The actions a policy's action scope names, or "all" when it names none or a group. */
function actionsOf(scope: Json | undefined): Set<string> | "all" {
  if (!isObject(scope) || scope.op === "All") return "all";
  const list = scope.op === "==" ? [scope.entity] : scope.op === "in" ? scope.entities : undefined;
  if (!Array.isArray(list)) return "all";
  const ids = new Set<string>();
  for (const entity of list) {
    if (!isObject(entity) || typeof entity.id !== "string") return "all";
    ids.add(entity.id);
  }
  return ids;
}

function merge(into: ActionReads, from: ActionReads): void {
  for (const path of from.paths) into.paths.add(path);
  for (const uid of from.uids) into.uids.add(uid);
  for (const tag of from.tags) into.tags.add(tag);
  into.opaque ||= from.opaque;
}

/** What one policy reads, and which actions it can apply to; an unparsable policy reads everything. */
function analysePolicy(text: string): { actions: Set<string> | "all"; reads: ActionReads } {
  const reads = emptyReads();
  const answer = policyToJson(text);
  if (answer.type === "failure") return { actions: "all", reads: { ...reads, opaque: true } };
  // The EST's typed union is walked as plain JSON: every node is an object keyed by its operator.
  const est = answer.json as unknown as JsonObject;
  visitScope("principal", est.principal, reads);
  visitScope("resource", est.resource, reads);
  visit(est.conditions, reads);
  return { actions: actionsOf(est.action), reads };
}

/** Per action, the union of what every policy that may apply to it reads. */
export function analysePolicyReads(
  texts: Iterable<string>,
  actions: readonly PolicyAction[],
): Map<PolicyAction, ActionReads> {
  const byAction = new Map<PolicyAction, ActionReads>(actions.map((action) => [action, emptyReads()]));
  for (const text of texts) {
    const policy = analysePolicy(text);
    for (const action of actions) {
      if (policy.actions === "all" || policy.actions.has(action)) merge(byAction.get(action)!, policy.reads);
    }
  }
  return byAction;
}
