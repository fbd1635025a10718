import type { Redis } from "ioredis";

/** Runs a pipeline and throws its first command error (ioredis reports errors per command). */
export async function execOrThrow(pipeline: ReturnType<Redis["pipeline"]>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** HGETALL inside a pipeline comes back untyped; it is an object of strings. */
export function toFields(value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object") return {};
  const fields: Record<string, string> = {};
  for (const [key, field] of Object.entries(value)) if (typeof field === "string") fields[key] = field;
  return fields;
}

/** HGETALL of many keys in one round trip. */
export async function hgetallMany(redis: Redis, keys: string[]): Promise<Record<string, string>[]> {
  if (keys.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.hgetall(key);
  return (await execOrThrow(pipeline)).map(toFields);
}
