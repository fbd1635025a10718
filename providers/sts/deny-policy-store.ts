import { setTimeout as delay } from "node:timers/promises";
import type { Redis } from "ioredis";
import { PermanentProviderError, TransientProviderError } from "../provider-errors.js";
import {
  type DenyState,
  mergeDenyStates,
  nextPruneAt,
  parseDenyPolicy,
  policySize,
  pruneDenyState,
  ROLE_INLINE_POLICY_BUDGET,
  type RoleCutoff,
  renderDenyPolicy,
  withRoleCutoff,
} from "./deny-policy.js";
import { roleNameOf } from "./role-directory.js";
import type { RoleLock } from "./role-lock.js";
import type { RolePolicyApi } from "./role-policy-api.js";
import type { StsRedisKeys } from "./sts-keys.js";

/**
 * Keeps each role's broker-managed deny policy in IAM in step with the revocations asked of it.
 *
 * Revokers add their entry to the role's `desired` hash, then either find it already applied or take the
 * role's lock and commit: read the policy from IAM, merge it with everything desired (so neither a stale
 * IAM read nor a lost Redis key drops an entry), prune expired entries, and write. One commit applies every
 * entry desired so far, so concurrent revocations on a role cost a few IAM writes, not one each, and none
 * is lost. If the document would overflow the role's inline budget, the entries give way to one role-wide
 * `aws:TokenIssueTime` cut-off (which also ends the role's other sessions; the outcome says so).
 */

/** How a session ended up denied. */
export type DenyOutcome =
  | { method: "session_deny" }
  /** Denied with every other session of the role issued before `cutoff.issuedBeforeMs`. */
  | { method: "role_cutoff"; cutoff: RoleCutoff };

export interface DenyPolicyStore {
  /** Resolves once IAM accepted a policy that denies the session (or the session has expired anyway). */
  denySession(roleArn: string, entry: { userId: string; expiresAt: number }): Promise<DenyOutcome>;
  /** Rewrites the policies of roles with expired entries; returns the roles it could not prune. */
  pruneDue(): Promise<{ pruned: number; failed: { roleArn: string; error: string }[] }>;
}

export interface DenyPolicyStoreDeps {
  redis: Pick<
    Redis,
    "hset" | "hgetall" | "hmget" | "hdel" | "pexpire" | "multi" | "zadd" | "zrem" | "zrangebyscore"
  >;
  keys: StsRedisKeys;
  lock: RoleLock;
  policies: RolePolicyApi;
  /** Epoch ms (the broker's clock). */
  now: () => number;
  /** Entries stay this long past their session's expiry (clock skew between the broker and AWS). */
  pruneMarginMs: number;
  /** A role-wide cut-off reaches this far past "now" (AWS's clock may run ahead of the broker's). */
  cutoffSkewMs: number;
  /** How long a revoker waits for the role's lock before giving up (transient: the queue retries). */
  lockWaitMs: number;
  pollMs: number;
}

/** STS's longest session: a cut-off can be dropped once this much time has passed since it. */
const MAX_SESSION_MS = 43_200_000;
/** A role's bookkeeping outlives its last write by the longest session, so a forgotten role leaves nothing. */
const BOOKKEEPING_TTL_MS = MAX_SESSION_MS + 3_600_000;
const PRUNE_BATCH = 50;
const CUTOFF_FIELD = "c";
const sessionField = (userId: string): string => `s:${userId}`;

/** The cut-off field's value: `<issuedBeforeMs>:<untilMs>`. */
function parseCutoff(value: string | null | undefined): RoleCutoff | null {
  const [issuedBeforeMs, untilMs] = (value ?? "").split(":").map(Number);
  if (issuedBeforeMs === undefined || untilMs === undefined || Number.isNaN(issuedBeforeMs + untilMs))
    return null;
  return { issuedBeforeMs, untilMs };
}

function stateOf(fields: Record<string, string>): DenyState {
  const sessions = new Map<string, number>();
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith("s:")) sessions.set(field.slice(2), Number(value));
  }
  return { sessions, cutoff: parseCutoff(fields[CUTOFF_FIELD]), foreign: [] };
}

function fieldsOf(state: DenyState): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [userId, expiresAt] of state.sessions) fields[sessionField(userId)] = String(expiresAt);
  if (state.cutoff) fields[CUTOFF_FIELD] = `${state.cutoff.issuedBeforeMs}:${state.cutoff.untilMs}`;
  return fields;
}

export function createDenyPolicyStore(deps: DenyPolicyStoreDeps): DenyPolicyStore {
  const { redis, keys, lock, policies, now } = deps;

  function cutoffNow(): RoleCutoff {
    const issuedBeforeMs = now() + deps.cutoffSkewMs;
    return { issuedBeforeMs, untilMs: issuedBeforeMs + MAX_SESSION_MS + deps.pruneMarginMs };
  }

  /** Writes `state` (or drops the policy when empty); falls back to a cut-off when IAM says it is too big. */
  async function write(roleArn: string, token: string, state: DenyState, current: string | undefined) {
    const roleName = roleNameOf(roleArn);
    let next = state;
    let text = renderDenyPolicy(next);
    if (text !== null && policySize(text) > ROLE_INLINE_POLICY_BUDGET) {
      next = withRoleCutoff(next, cutoffNow());
      text = renderDenyPolicy(next);
    }
    if (text === (current ?? null)) return next;
    // A holder whose lock expired must not overwrite a newer holder's document.
    if (!(await lock.holds(keys.lock(roleArn), token)))
      throw new TransientProviderError(`lost the deny-policy lock of ${roleArn}; retrying`);
    if (text === null) {
      await policies.remove(roleName);
      return next;
    }
    if ((await policies.write(roleName, text)) === "ok") return next;
    if (next.sessions.size === 0) {
      throw new PermanentProviderError(
        `the inline policies of role ${roleName} leave no room for the broker's deny policy (LimitExceeded)`,
      );
    }
    next = withRoleCutoff(next, cutoffNow());
    const smaller = renderDenyPolicy(next) ?? "";
    if ((await policies.write(roleName, smaller)) === "over_budget") {
      throw new PermanentProviderError(
        `the inline policies of role ${roleName} leave no room for the broker's deny policy (LimitExceeded)`,
      );
    }
    return next;
  }

  /** One read-merge-prune-write of a role's policy, under its lock; then the Redis bookkeeping. */
  async function commit(roleArn: string, token: string): Promise<void> {
    const desiredFields = await redis.hgetall(keys.desired(roleArn));
    const current = await policies.read(roleNameOf(roleArn));
    const merged = mergeDenyStates(parseDenyPolicy(current), stateOf(desiredFields));
    const next = await write(roleArn, token, pruneDenyState(merged, now(), deps.pruneMarginMs), current);

    const settled = Object.keys(desiredFields).filter(
      (field) => field.startsWith("s:") && !next.sessions.has(field.slice(2)),
    );
    if (settled.length > 0) await redis.hdel(keys.desired(roleArn), ...settled);
    const fields = fieldsOf(next);
    const replace = redis.multi().del(keys.applied(roleArn));
    if (Object.keys(fields).length > 0) {
      replace.hset(keys.applied(roleArn), fields).pexpire(keys.applied(roleArn), BOOKKEEPING_TTL_MS);
    }
    await replace.exec();
    const due = nextPruneAt(next, deps.pruneMarginMs);
    if (due === null) await redis.zrem(keys.pruneDue, roleArn);
    else await redis.zadd(keys.pruneDue, due, roleArn);
  }

  async function underLock(roleArn: string, token: string): Promise<void> {
    try {
      await commit(roleArn, token);
    } finally {
      await lock.release(keys.lock(roleArn), token);
    }
  }

  /** Whether the applied policy denies the entry: listed, or issued before a cut-off made after the request. */
  async function appliedOutcome(
    roleArn: string,
    userId: string,
    requestedAt: number,
  ): Promise<DenyOutcome | null> {
    const [listed, cutoffField] = await redis.hmget(
      keys.applied(roleArn),
      sessionField(userId),
      CUTOFF_FIELD,
    );
    if (listed !== null && listed !== undefined) return { method: "session_deny" };
    const cutoff = parseCutoff(cutoffField);
    return cutoff && cutoff.issuedBeforeMs > requestedAt ? { method: "role_cutoff", cutoff } : null;
  }

  return {
    async denySession(roleArn, entry) {
      const requestedAt = now();
      if (entry.expiresAt + deps.pruneMarginMs <= requestedAt) return { method: "session_deny" };
      await redis.hset(keys.desired(roleArn), sessionField(entry.userId), String(entry.expiresAt));
      await redis.pexpire(keys.desired(roleArn), BOOKKEEPING_TTL_MS);
      const giveUpAt = performance.now() + deps.lockWaitMs;
      let committed = false;
      for (;;) {
        const outcome = await appliedOutcome(roleArn, entry.userId, requestedAt);
        if (outcome) return outcome;
        if (committed)
          throw new TransientProviderError(`the deny policy of ${roleArn} did not take the entry`);
        const token = await lock.tryAcquire(keys.lock(roleArn));
        if (token) {
          await underLock(roleArn, token);
          committed = true;
          continue;
        }
        if (performance.now() > giveUpAt)
          throw new TransientProviderError(`the deny policy of ${roleArn} is busy; retrying`);
        await delay(deps.pollMs);
      }
    },

    async pruneDue() {
      const due = await redis.zrangebyscore(keys.pruneDue, "-inf", now(), "LIMIT", 0, PRUNE_BATCH);
      const failed: { roleArn: string; error: string }[] = [];
      let pruned = 0;
      for (const roleArn of due) {
        const token = await lock.tryAcquire(keys.lock(roleArn));
        if (!token) continue; // a revoker is committing; its commit prunes too
        try {
          await underLock(roleArn, token);
          pruned++;
        } catch (err) {
          failed.push({ roleArn, error: err instanceof Error ? err.message : String(err) });
        }
      }
      return { pruned, failed };
    },
  };
}
