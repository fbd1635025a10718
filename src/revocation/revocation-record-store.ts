import { luaScript } from "../shared/lua-script.js";
import type { RedisClient } from "../shared/redis.js";
import { revocationKeys } from "./revocation-keys.js";
import { ADVANCE_SCRIPT, RECORD_REACHED_SCRIPT, TALLY_SCRIPT } from "./revocation-scripts.js";

/** Ids per RPUSH / entries per script call: no single command holds Redis for long. */
const CHUNK = 1_000;
/** Revocation records (and their lists and counters) are kept 30 days; the audit log keeps the rest. */
const RECORD_TTL_SECONDS = 30 * 86_400;

const recordReachedScript = luaScript(RECORD_REACHED_SCRIPT);
const tallyScript = luaScript(TALLY_SCRIPT);
const advanceScript = luaScript(ADVANCE_SCRIPT);

/** Where a reached credential counts in the progress (`gone`: its record vanished; `resolved`: settled by hand). */
export type ProgressBucket =
  | "revoking"
  | "revoke_failed"
  | "revoked"
  | "expired"
  | "not_issued"
  | "resolved"
  | "gone";

export interface StoredProgress {
  counts: Record<"revoking" | "revoke_failed" | "revoked" | "expired" | "not_issued", number>;
  /** Credentials recorded so far (the worker records each task's as it closes it). */
  recorded: number;
  /** Position in the matched task list up to which every task has been closed. */
  cursor: number;
  /** Start of the batch a run began and has not finished (a crashed run's batch is redone in full). */
  claimed: number | null;
  /** `closing` until every matched task has been closed; then `done`. */
  phase: "closing" | "done";
}

/** What an emergency revocation keeps: its status at start, its matched tasks, and its progress counters. */
export interface RevocationRecordStore {
  /** Records the status and the matched task ids; a run to do (`running`) unless it is a dry run. */
  save(revocationId: string, status: unknown, rootTaskIds: string[], dryRun: boolean): Promise<void>;
  /** The recorded status (parsed JSON), or null when unknown or expired. */
  status(revocationId: string): Promise<unknown>;
  /** Recorded statuses, newest first, from `offset`; records past their 30 days are skipped. */
  page(limit: number, offset: number): Promise<{ statuses: unknown[]; scanned: number }>;
  rootTasks(revocationId: string, offset: number, limit: number): Promise<string[]>;
  progress(revocationId: string): Promise<StoredProgress>;
  claim(revocationId: string, cursor: number): Promise<void>;
  /** Moves the cursor from `from` to `to`; false when another run already did. */
  advance(revocationId: string, from: number, to: number): Promise<boolean>;
  recordReached(
    revocationId: string,
    reached: { credentialId: string; taskId: string; bucket: ProgressBucket }[],
  ): Promise<void>;
  /** One page of the credentials still open (HSCAN; cursor "0" starts and ends a walk). */
  openPage(
    revocationId: string,
    cursor: string,
  ): Promise<{ next: string; entries: { credentialId: string; taskId: string }[] }>;
  tally(revocationId: string, moves: { credentialId: string; bucket: ProgressBucket }[]): Promise<void>;
  /** Reached credentials now in revoke_failed: credential id → task id. */
  failed(revocationId: string): Promise<{ credentialId: string; taskId: string }[]>;
  finishClosing(revocationId: string): Promise<void>;
  /** The run has nothing left to do (also for records that expired). */
  finished(revocationId: string): Promise<void>;
  /** Revocations whose run has not finished, oldest first. */
  running(limit: number): Promise<string[]>;
}

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

const num = (raw: string | undefined): number => (raw === undefined ? 0 : Number(raw));

export function createRevocationRecordStore(deps: {
  redis: RedisClient;
  keyPrefix: string;
}): RevocationRecordStore {
  const { redis } = deps;
  const keys = revocationKeys(deps.keyPrefix);
  const ttl = String(RECORD_TTL_SECONDS);
  return {
    async save(revocationId, status, rootTaskIds, dryRun) {
      const list = keys.tasks(revocationId);
      const progress = keys.progress(revocationId);
      const now = Date.now();
      await Promise.all([
        ...chunks(rootTaskIds, CHUNK).map((chunk) => redis.rpush(list, ...chunk)),
        redis.expire(list, RECORD_TTL_SECONDS),
        redis.hset(progress, { phase: dryRun ? "done" : "closing", cursor: "0", recorded: "0" }),
        redis.expire(progress, RECORD_TTL_SECONDS),
        redis.set(keys.record(revocationId), JSON.stringify(status), "EX", RECORD_TTL_SECONDS),
      ]);
      await Promise.all([
        redis.zadd(keys.all, now, revocationId),
        dryRun ? null : redis.zadd(keys.running, now, revocationId),
      ]);
      await redis.zremrangebyscore(keys.all, "-inf", String(now - RECORD_TTL_SECONDS * 1000));
    },
    async status(revocationId) {
      const raw = await redis.get(keys.record(revocationId));
      return raw === null ? null : (JSON.parse(raw) as unknown);
    },
    async page(limit, offset) {
      const ids = await redis.zrevrange(keys.all, offset, offset + limit - 1);
      const raw = await Promise.all(ids.map((id) => redis.get(keys.record(id))));
      const statuses = raw.flatMap((text) => (text === null ? [] : [JSON.parse(text) as unknown]));
      return { statuses, scanned: ids.length };
    },
    rootTasks: (revocationId, offset, limit) =>
      redis.lrange(keys.tasks(revocationId), offset, offset + limit - 1),
    async progress(revocationId) {
      const raw = await redis.hgetall(keys.progress(revocationId));
      return {
        counts: {
          revoking: num(raw.revoking),
          revoke_failed: num(raw.revoke_failed),
          revoked: num(raw.revoked),
          expired: num(raw.expired),
          not_issued: num(raw.not_issued),
        },
        recorded: num(raw.recorded),
        cursor: num(raw.cursor),
        claimed: raw.claimed === undefined ? null : Number(raw.claimed),
        phase: raw.phase === "closing" ? "closing" : "done",
      };
    },
    async claim(revocationId, cursor) {
      await redis.hset(keys.progress(revocationId), "claimed", String(cursor));
    },
    async advance(revocationId, from, to) {
      const reply = await advanceScript(redis, [keys.progress(revocationId)], [String(from), String(to)]);
      return Number(reply) === 1;
    },
    async recordReached(revocationId, reached) {
      const scriptKeys = [
        keys.credentials(revocationId),
        keys.open(revocationId),
        keys.progress(revocationId),
        keys.failed(revocationId),
      ];
      for (const chunk of chunks(reached, CHUNK)) {
        const args = chunk.flatMap((r) => [r.credentialId, r.taskId, r.bucket]);
        await recordReachedScript(redis, scriptKeys, [ttl, ...args]);
      }
    },
    async openPage(revocationId, cursor) {
      const [next, flat] = await redis.hscan(keys.open(revocationId), cursor, "COUNT", CHUNK);
      const ids = flat.filter((_, i) => i % 2 === 0);
      const taskIds = ids.length > 0 ? await redis.hmget(keys.credentials(revocationId), ...ids) : [];
      const entries = ids.flatMap((credentialId, i) => {
        const taskId = taskIds[i];
        return taskId ? [{ credentialId, taskId }] : [];
      });
      return { next, entries };
    },
    async tally(revocationId, moves) {
      const scriptKeys = [
        keys.open(revocationId),
        keys.progress(revocationId),
        keys.failed(revocationId),
        keys.credentials(revocationId),
      ];
      for (const chunk of chunks(moves, CHUNK)) {
        await tallyScript(
          redis,
          scriptKeys,
          chunk.flatMap((m) => [m.credentialId, m.bucket]),
        );
      }
    },
    async failed(revocationId) {
      const entries = Object.entries(await redis.hgetall(keys.failed(revocationId)));
      return entries.map(([credentialId, taskId]) => ({ credentialId, taskId }));
    },
    async finishClosing(revocationId) {
      await redis.hset(keys.progress(revocationId), "phase", "done");
    },
    async finished(revocationId) {
      await redis.zrem(keys.running, revocationId);
    },
    running: (limit) => redis.zrange(keys.running, "0", String(limit - 1)),
  };
}
