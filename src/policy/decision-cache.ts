import type { EntityJson } from "@cedar-policy/cedar-wasm/nodejs";
import { type ActionReads, readsTime } from "./policy-reads.js";
import type { CedarValue, Decision, PolicyAction } from "./policy-types.js";

/** The request as Cedar sees it: the two entities and the context. */
export interface DecisionInputs {
  action: PolicyAction;
  principal: EntityJson;
  resource: EntityJson;
  context: Record<string, CedarValue>;
}

/**
 * Remembers decisions of one policy set (a new set gets a new cache). A decision is stored under the
 * values of exactly the inputs the set's policies read for that action (`policy-reads.ts`); a request that
 * differs in any of them misses. Actions whose policies read the clock, or read something the analysis
 * cannot project, are never cached. Bounded: the least recently used entry goes first.
 */
export function createDecisionCache(reads: ReadonlyMap<PolicyAction, ActionReads>, maxEntries: number) {
  const entries = new Map<string, Decision>();
  const stats = { hits: 0, misses: 0, uncacheable: 0 };
  const cacheable = new Map<PolicyAction, ActionReads>();
  for (const [action, actionReads] of reads) if (!readsTime(actionReads)) cacheable.set(action, actionReads);

  /** The key of a request, or null when its decision must be made afresh. */
  function keyOf(inputs: DecisionInputs): string | null {
    const actionReads = cacheable.get(inputs.action);
    if (maxEntries <= 0 || actionReads === undefined) {
      stats.uncacheable++;
      return null;
    }
    const roots: Record<string, unknown> = {
      principal: inputs.principal.attrs,
      resource: inputs.resource.attrs,
      context: inputs.context,
    };
    const parts: unknown[] = [inputs.action, uidOf(inputs.principal).type, uidOf(inputs.resource).type];
    for (const variable of ["principal", "resource"] as const) {
      const entity = inputs[variable];
      parts.push(actionReads.uids.has(variable) ? uidOf(entity).id : null);
      parts.push(actionReads.tags.has(variable) ? (entity.tags ?? {}) : null);
    }
    for (const path of actionReads.paths) parts.push(path, valueAt(roots, path) ?? null);
    return JSON.stringify(parts);
  }

  function get(key: string): Decision | undefined {
    const hit = entries.get(key);
    if (hit === undefined) {
      stats.misses++;
      return undefined;
    }
    stats.hits++;
    entries.delete(key);
    entries.set(key, hit);
    return { ...hit, policyIds: [...hit.policyIds] };
  }

  function set(key: string, decision: Decision): void {
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
    entries.set(key, { ...decision, policyIds: [...decision.policyIds] });
  }

  return { keyOf, get, set, stats: (): DecisionCacheStats => ({ entries: entries.size, ...stats }) };
}

export type DecisionCache = ReturnType<typeof createDecisionCache>;

/** Counts since the active policy set was loaded. */
export interface DecisionCacheStats {
  entries: number;
  hits: number;
  misses: number;
  /** Decisions of actions that are never cached (they read the clock, or the cache is off). */
  uncacheable: number;
}

function uidOf(entity: EntityJson): { type: string; id: string } {
  const uid = entity.uid;
  return "__entity" in uid ? uid.__entity : uid;
}

/** The value at a dotted path (`context.task.depth`), or undefined where a segment is missing. */
function valueAt(roots: Record<string, unknown>, path: string): unknown {
  let value: unknown = roots;
  for (const segment of path.split(".")) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = Reflect.get(value, segment);
  }
  return value;
}
