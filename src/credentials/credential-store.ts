import { luaScript } from "../shared/lua-script.js";
import type { RedisClient } from "../shared/redis.js";
import { hgetallMany, hgetMany, hmgetMany } from "../shared/redis-batch.js";
import { taskKeys } from "../tasks/task-keys.js";
import { decodeCredential, encodeNewCredential } from "./credential-codec.js";
import { credentialKeys } from "./credential-keys.js";
import {
  ACTIVATE_SCRIPT,
  CREATE_PENDING_SCRIPT,
  CREDENTIAL_TRANSITION_SCRIPT,
} from "./credential-scripts.js";

const createPendingScript = luaScript(CREATE_PENDING_SCRIPT);
const activateScript = luaScript(ACTIVATE_SCRIPT);
const transitionScript = luaScript(CREDENTIAL_TRANSITION_SCRIPT);

import { CREDENTIAL_STATES, type Credential, type CredentialState } from "./credential-types.js";

export interface Activation {
  handle: string;
  expiresAt: number;
  downstreamAccount: string;
  issuedAt: number;
}

/** A task's credentials per state, as the credential scripts count them (`live`: pending or active). */
export type CredentialCounts = Record<(typeof COUNTED)[number], number>;
const COUNTED = ["live", "revoking", "revoked", "expired", "revoke_failed", "failed", "resolved"] as const;

export type TransitionResult =
  | { moved: true; previous: CredentialState }
  | { moved: false; current: CredentialState | null };

export interface CredentialStore {
  /** Records a pending credential if its task is open (guarantee 3: recorded before the provider issues). */
  createPending(credential: Credential, now: number): Promise<"ok" | "task_not_open" | "missing">;
  /** Returns the state after the call: "active", or "revoking" when the task closed meanwhile. */
  activate(credential: Credential, activation: Activation): Promise<CredentialState | null>;
  transition(
    credential: Pick<Credential, "id" | "taskId">,
    from: readonly CredentialState[],
    to: CredentialState,
    fields?: Record<string, string>,
  ): Promise<TransitionResult>;
  get(credentialId: string): Promise<Credential | null>;
  getInTask(taskId: string, credentialId: string): Promise<Credential | null>;
  listForTask(taskId: string): Promise<Credential[]>;
  /** How many credentials were ever recorded under the task (for the credentials quota). */
  countForTask(taskId: string): Promise<number>;
  /** Only the id and state of each of a task's credentials (cheaper than full records). */
  statesForTask(taskId: string): Promise<{ id: string; taskId: string; state: CredentialState }[]>;
  /** Per task: its credentials per state, one round trip for all; null for a task older than the counts. */
  countsFor(taskIds: string[]): Promise<(CredentialCounts | null)[]>;
  /** `unsettledCount` of many tasks, one round trip. */
  unsettledCounts(taskIds: string[]): Promise<(number | null)[]>;
  /** How many of the task's credentials are not yet revoked, expired or failed; null for records older than the counter. */
  unsettledCount(taskId: string): Promise<number | null>;
  getMany(refs: { taskId: string; credentialId: string }[]): Promise<Credential[]>;
  /** Only the state of each credential (null where the record is gone), one round trip. */
  statesOf(refs: { taskId: string; credentialId: string }[]): Promise<(CredentialState | null)[]>;
  taskOf(credentialIds: string[]): Promise<(string | null)[]>;
  /** Drops entries of a reconciler index that no longer match their record (stale hints). */
  dropFromIndex(index: "pending" | "active" | "failed" | "retryDue", credentialIds: string[]): Promise<void>;
  pendingOlderThan(createdBefore: number, limit: number): Promise<string[]>;
  activeExpiringBy(until: number, limit: number): Promise<string[]>;
  activeIds(): Promise<string[]>;
  /** revoke_failed credentials whose scheduled retry is due by `until` (permanent failures never are). */
  retryDueBy(until: number, limit: number): Promise<string[]>;
  /** Credential ids by creation time, newest first; the cursor is an offset. */
  page(limit: number, offset: number): Promise<string[]>;
  failedPage(limit: number, offset: number): Promise<string[]>;
  /** How many credentials are in revoke_failed (the `credbroker_revoke_failed` gauge). */
  failedCount(): Promise<number>;
}

const parseState = (raw: string): CredentialState | null => CREDENTIAL_STATES.find((s) => s === raw) ?? null;

/** Credential records and their indexes; every multi-slot write works on standalone, Sentinel and Cluster. */
export function createCredentialStore(deps: {
  redis: RedisClient;
  keyPrefix: string;
  now: () => number;
}): CredentialStore {
  const { redis } = deps;
  const keys = credentialKeys(deps.keyPrefix);
  const tasks = taskKeys(deps.keyPrefix);

  /**
   * Moves the credential between the reconciler's indexes: out of its old state's, into its new state's. A
   * move into revoke_failed with a `retry_at` field also schedules its retry.
   */
  async function syncIndexes(
    id: string,
    from: CredentialState,
    to: CredentialState,
    options: { expiresAt?: number; retryAt?: string } = {},
  ) {
    const { expiresAt, retryAt } = options;
    const leaving: Partial<Record<CredentialState, string>> = {
      pending: keys.pending,
      active: keys.active,
      revoke_failed: keys.failed,
    };
    const left = from === to ? undefined : leaving[from];
    await Promise.all([
      left ? redis.zrem(left, id) : null,
      from === "revoke_failed" && to !== from ? redis.zrem(keys.retryDue, id) : null,
      to === "revoke_failed" && retryAt ? redis.zadd(keys.retryDue, retryAt, id) : null,
      to === "active" && expiresAt !== undefined ? redis.zadd(keys.active, expiresAt, id) : null,
      to === "revoke_failed" && from !== to ? redis.zadd(keys.failed, deps.now(), id) : null,
    ]);
  }

  async function getMany(refs: { taskId: string; credentialId: string }[]): Promise<Credential[]> {
    const records = await hgetallMany(
      redis,
      refs.map((ref) => keys.credential(ref.taskId, ref.credentialId)),
    );
    return records.map(decodeCredential).filter((c): c is Credential => c !== null);
  }

  /** Undoes a createPending that did not fully land; the provider was not called, so nothing exists downstream. */
  async function dropPending(credential: Credential, recorded: boolean): Promise<void> {
    await Promise.allSettled([
      redis.zrem(keys.pending, credential.id),
      redis.zrem(keys.all, credential.id),
      redis.hdel(keys.index, credential.id),
      recorded
        ? transitionScript(
            redis,
            [keys.credential(credential.taskId, credential.id), tasks.task(credential.taskId)],
            ["pending", "failed", "last_error", "its index entries could not be written"],
          )
        : null,
    ]);
  }

  const ids = (key: string, limit: number, offset: number) =>
    redis.zrevrange(key, String(offset), String(offset + limit - 1));

  return {
    async createPending(credential, now) {
      // Hints and record go out together (one round trip) and the provider is called only once both are
      // confirmed: a credential that may exist downstream is always one the reconciler can find.
      const [hints, created] = await Promise.allSettled([
        Promise.all([
          redis.hset(keys.index, credential.id, credential.taskId),
          redis.zadd(keys.pending, credential.createdAt, credential.id),
          redis.zadd(keys.all, credential.createdAt, credential.id),
        ]),
        createPendingScript(
          redis,
          [
            tasks.task(credential.taskId),
            tasks.credentials(credential.taskId),
            keys.credential(credential.taskId, credential.id),
          ],
          [String(now), credential.id, ...encodeNewCredential(credential)],
        ),
      ]);
      const reply = created.status === "fulfilled" ? String(created.value) : null;
      if (hints.status === "rejected" || reply !== "ok") await dropPending(credential, reply === "ok");
      if (hints.status === "rejected") throw hints.reason;
      if (created.status === "rejected") throw created.reason;
      return reply === "ok" ? "ok" : reply === "missing" ? "missing" : "task_not_open";
    },
    async activate(credential, activation) {
      // The active hint goes out with the activation (one round trip); the pending hint is dropped only once
      // the record says active, so whatever fails, the credential stays in an index the reconciler reads.
      const [reply] = await Promise.all([
        activateScript(
          redis,
          [keys.credential(credential.taskId, credential.id)],
          [
            "handle",
            activation.handle,
            "expires_at",
            String(activation.expiresAt),
            "downstream_account",
            activation.downstreamAccount,
            "issued_at",
            String(activation.issuedAt),
          ],
        ),
        redis.zadd(keys.active, activation.expiresAt, credential.id),
      ]);
      const state = parseState(String(reply));
      if (state === "active") {
        // Not awaited: a pending hint left behind is dropped by the reconciler, which finds the record active.
        redis.zrem(keys.pending, credential.id).catch(() => undefined);
      } else {
        await redis.zrem(keys.active, credential.id);
      }
      return state;
    },
    async transition(credential, from, to, fields = {}) {
      const reply = String(
        await transitionScript(
          redis,
          [keys.credential(credential.taskId, credential.id), tasks.task(credential.taskId)],
          [from.join(" "), to, ...Object.entries(fields).flat()],
        ),
      );
      if (reply.startsWith("!")) return { moved: false, current: parseState(reply.slice(1)) };
      const previous = parseState(reply);
      if (!previous) throw new Error(`unknown credential state ${reply}`);
      await syncIndexes(credential.id, previous, to, { retryAt: fields.retry_at });
      return { moved: true, previous };
    },
    async get(credentialId) {
      const taskId = await redis.hget(keys.index, credentialId);
      if (!taskId) return null;
      return decodeCredential(await redis.hgetall(keys.credential(taskId, credentialId)));
    },
    async getInTask(taskId, credentialId) {
      return decodeCredential(await redis.hgetall(keys.credential(taskId, credentialId)));
    },
    async statesForTask(taskId) {
      const ids = await redis.lrange(tasks.credentials(taskId), 0, -1);
      const states = await hgetMany(
        redis,
        ids.map((id) => keys.credential(taskId, id)),
        "state",
      );
      return ids.flatMap((id, i) => {
        const state = parseState(states[i] ?? "");
        return state ? [{ id, taskId, state }] : [];
      });
    },
    async unsettledCounts(taskIds) {
      const rows = await hmgetMany(
        redis,
        taskIds.map((id) => tasks.task(id)),
        ["unsettled"],
      );
      return rows.map((row) => (row[0] === null || row[0] === undefined ? null : Number(row[0])));
    },
    async unsettledCount(taskId) {
      const raw = await redis.hget(tasks.task(taskId), "unsettled");
      return raw === null ? null : Number(raw);
    },
    countForTask: (taskId) => redis.llen(tasks.credentials(taskId)),
    async countsFor(taskIds) {
      const rows = await hmgetMany(
        redis,
        taskIds.map((id) => tasks.task(id)),
        COUNTED.map((name) => `n_${name}`),
      );
      return rows.map((row) => {
        if (row[0] === null || row[0] === undefined) return null;
        const at = (i: number) => Number(row[i] ?? 0);
        return {
          live: at(0),
          revoking: at(1),
          revoked: at(2),
          expired: at(3),
          revoke_failed: at(4),
          failed: at(5),
          resolved: at(6),
        };
      });
    },
    async listForTask(taskId) {
      const credentialIds = await redis.lrange(tasks.credentials(taskId), 0, -1);
      return getMany(credentialIds.map((credentialId) => ({ taskId, credentialId })));
    },
    getMany,
    async statesOf(refs) {
      const states = await hgetMany(
        redis,
        refs.map((ref) => keys.credential(ref.taskId, ref.credentialId)),
        "state",
      );
      return states.map((state) => (state === null ? null : parseState(state)));
    },
    async taskOf(credentialIds) {
      if (credentialIds.length === 0) return [];
      return redis.hmget(keys.index, ...credentialIds);
    },
    async dropFromIndex(index, credentialIds) {
      if (credentialIds.length > 0) await redis.zrem(keys[index], ...credentialIds);
    },
    pendingOlderThan: (before, limit) =>
      redis.zrangebyscore(keys.pending, "-inf", String(before), "LIMIT", 0, limit),
    activeExpiringBy: (until, limit) =>
      redis.zrangebyscore(keys.active, "-inf", String(until), "LIMIT", 0, limit),
    activeIds: () => redis.zrange(keys.active, "0", "-1"),
    retryDueBy: (until, limit) =>
      redis.zrangebyscore(keys.retryDue, "-inf", String(until), "LIMIT", 0, limit),
    page: (limit, offset) => ids(keys.all, limit, offset),
    failedPage: (limit, offset) => ids(keys.failed, limit, offset),
    failedCount: () => redis.zcard(keys.failed),
  };
}
