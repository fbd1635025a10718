import type { Redis } from "ioredis";
import { credentialKeys } from "../../src/credentials/credential-keys.js";
import { taskKeys } from "../../src/tasks/task-keys.js";

/** How many task and credential records (and index entries) a broker holds under its prefix. */
export interface RecordCounts {
  /** Keys `<prefix>:task:*` (task hashes, their credential and child lists). */
  taskKeys: number;
  /** Keys `<prefix>:cred:*` (credential hashes). */
  credentialKeys: number;
  openTasks: number;
  allTasks: number;
  credentialIndex: number;
  pendingCredentials: number;
  activeCredentials: number;
  allCredentials: number;
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== "0");
  return found;
}

export async function countRecords(redis: Redis, prefix: string): Promise<RecordCounts> {
  const [taskRecords, credentialRecords] = await Promise.all([
    scanKeys(redis, `${prefix}:task:*`),
    scanKeys(redis, `${prefix}:cred:*`),
  ]);
  return {
    taskKeys: taskRecords.length,
    credentialKeys: credentialRecords.length,
    openTasks: await redis.zcard(taskKeys(prefix).open),
    allTasks: await redis.zcard(taskKeys(prefix).all),
    credentialIndex: await redis.hlen(credentialKeys(prefix).index),
    pendingCredentials: await redis.zcard(credentialKeys(prefix).pending),
    activeCredentials: await redis.zcard(credentialKeys(prefix).active),
    allCredentials: await redis.zcard(credentialKeys(prefix).all),
  };
}

/** Every key under the prefix with its whole value as text, whatever its type. */
export async function dumpPrefix(
  redis: Redis,
  prefix: string,
): Promise<{ key: string; type: string; value: string }[]> {
  const dump: { key: string; type: string; value: string }[] = [];
  for (const key of await scanKeys(redis, `${prefix}:*`)) {
    const type = await redis.type(key);
    let value: unknown;
    switch (type) {
      case "string":
        value = await redis.get(key);
        break;
      case "hash":
        value = await redis.hgetall(key);
        break;
      case "list":
        value = await redis.lrange(key, 0, -1);
        break;
      case "set":
        value = await redis.smembers(key);
        break;
      case "zset":
        value = await redis.zrange(key, "0", "-1", "WITHSCORES");
        break;
      case "stream":
        value = await redis.xrange(key, "-", "+");
        break;
      case "none":
        continue; // expired or deleted between SCAN and TYPE
      default:
        throw new Error(`unexpected Redis type ${type} at ${key}`);
    }
    dump.push({ key, type, value: JSON.stringify(value) });
  }
  return dump;
}
