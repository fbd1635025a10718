import type { RedisClient } from "./redis.js";

/*
 * Commands on keys of different slots, written so they work on every topology. On Redis Cluster an
 * explicit pipeline, MULTI or script may only touch keys of one slot, so there keys of different slots go
 * out as separate commands, all at once. On one connection (a single server, or the master a Sentinel
 * names) small groups go out the same way: a few commands in one tick cost what a pipeline costs.
 */

/**
 * HGETALL of many keys, in any slots, in one round trip. On one connection: one pipeline (for hundreds of
 * keys it takes half the client time of single commands). On a Cluster: one command per key, each routed
 * to its node.
 */
export async function hgetallMany(
  redis: RedisClient,
  keys: readonly string[],
): Promise<Record<string, string>[]> {
  if (keys.length === 0) return [];
  if (redis.isCluster) return Promise.all(keys.map((key) => redis.hgetall(key)));
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.hgetall(key);
  return ((await pipeline.exec()) ?? []).map(([err, fields]) => {
    if (err) throw err;
    return toFields(fields);
  });
}

/** HGET of one field of many keys, in any slots, in one round trip (null where the key or field is absent). */
export async function hgetMany(
  redis: RedisClient,
  keys: readonly string[],
  field: string,
): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  if (redis.isCluster) return Promise.all(keys.map((key) => redis.hget(key, field)));
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.hget(key, field);
  return ((await pipeline.exec()) ?? []).map(([err, value]) => {
    if (err) throw err;
    return typeof value === "string" ? value : null;
  });
}

/** HMGET of the same fields of many keys, in any slots, in one round trip (null where absent). */
export async function hmgetMany(
  redis: RedisClient,
  keys: readonly string[],
  fields: readonly string[],
): Promise<(string | null)[][]> {
  if (keys.length === 0) return [];
  if (redis.isCluster) return Promise.all(keys.map((key) => redis.hmget(key, ...fields)));
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.hmget(key, ...fields);
  return ((await pipeline.exec()) ?? []).map(([err, values]) => {
    if (err) throw err;
    return Array.isArray(values) ? values.map((v) => (typeof v === "string" ? v : null)) : [];
  });
}

/** LRANGE 0 -1 of many lists, in any slots, in one round trip. */
export async function lrangeMany(redis: RedisClient, keys: readonly string[]): Promise<string[][]> {
  if (keys.length === 0) return [];
  if (redis.isCluster) return Promise.all(keys.map((key) => redis.lrange(key, 0, -1)));
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.lrange(key, 0, -1);
  return ((await pipeline.exec()) ?? []).map(([err, values]) => {
    if (err) throw err;
    return Array.isArray(values) ? values.filter((v): v is string => typeof v === "string") : [];
  });
}

/** HGETALL inside a pipeline comes back untyped; it is an object of strings. */
function toFields(value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object") return {};
  const fields: Record<string, string> = {};
  for (const [key, field] of Object.entries(value)) if (typeof field === "string") fields[key] = field;
  return fields;
}

/**
 * Writes whose order matters across slots, such as index hints before the record they point at: `last`
 * is applied only after every write in `first` (which may apply in any order among themselves), and its
 * result is returned.
 *
 * On one connection Redis applies a client's commands in the order they arrive, so everything is sent at
 * once: one round trip. On a Cluster the keys live on different nodes, so `last` waits for `first`.
 * `first` and `last` must send their commands when called (no auto-pipelining, which would defer them).
 * As with a pipeline, on one connection a failed write in `first` does not stop `last`; the call rejects.
 */
export async function inOrder<T>(
  redis: RedisClient,
  first: ReadonlyArray<() => Promise<unknown>>,
  last: () => Promise<T>,
): Promise<T> {
  if (redis.isCluster) {
    await Promise.all(first.map((write) => write()));
    return last();
  }
  const [, result] = await Promise.all([Promise.all(first.map((write) => write())), last()]);
  return result;
}
