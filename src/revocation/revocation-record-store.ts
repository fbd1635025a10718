import type { RedisClient } from "../shared/redis.js";
import { revocationKeys } from "./revocation-keys.js";

/** Credential ids per HSET of a revocation's list: no single command holds Redis for long. */
const HSET_CHUNK = 1_000;
/** Revocation records (and their credential lists) are kept 30 days; the audit log keeps the rest. */
const RECORD_TTL_SECONDS = 30 * 86_400;

/** What an emergency revocation keeps: its status at start, and which credentials it reached. */
export interface RevocationRecordStore {
  save(revocationId: string, status: unknown, reached: { id: string; taskId: string }[]): Promise<void>;
  /** The recorded status (parsed JSON), or null when unknown or expired. */
  status(revocationId: string): Promise<unknown>;
  reached(revocationId: string): Promise<{ credentialId: string; taskId: string }[]>;
  /** Recorded statuses, newest first, from `offset`; records past their 30 days are skipped. */
  page(limit: number, offset: number): Promise<{ statuses: unknown[]; scanned: number }>;
}

export function createRevocationRecordStore(deps: {
  redis: RedisClient;
  keyPrefix: string;
}): RevocationRecordStore {
  const { redis } = deps;
  const keys = revocationKeys(deps.keyPrefix);
  return {
    async save(revocationId, status, reached) {
      const chunks = Array.from({ length: Math.ceil(reached.length / HSET_CHUNK) }, (_, i) =>
        reached.slice(i * HSET_CHUNK, (i + 1) * HSET_CHUNK),
      );
      const list = keys.credentials(revocationId);
      await Promise.all([
        redis.set(keys.record(revocationId), JSON.stringify(status), "EX", RECORD_TTL_SECONDS),
        ...chunks.map((chunk) => redis.hset(list, Object.fromEntries(chunk.map((c) => [c.id, c.taskId])))),
        redis.expire(list, RECORD_TTL_SECONDS),
        redis.zadd(keys.all, Date.now(), revocationId),
      ]);
      await redis.zremrangebyscore(keys.all, "-inf", String(Date.now() - RECORD_TTL_SECONDS * 1000));
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
    async reached(revocationId) {
      const entries = Object.entries(await redis.hgetall(keys.credentials(revocationId)));
      return entries.map(([credentialId, taskId]) => ({ credentialId, taskId }));
    },
  };
}
