import { createHash } from "node:crypto";
import type { RedisClient } from "./redis.js";

/** Runs a Lua script by its SHA-1 (EVALSHA), loading it with EVAL the first time a node lacks it. */
export type LuaScript = (
  redis: RedisClient,
  keys: readonly string[],
  args: readonly string[],
) => Promise<unknown>;

export function luaScript(source: string): LuaScript {
  const sha = createHash("sha1").update(source).digest("hex");
  return async (redis, keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      // A Redis error reply starts with its code; NOSCRIPT means this node has not cached the script yet.
      if (err instanceof Error && err.message.startsWith("NOSCRIPT"))
        return redis.eval(source, keys.length, ...keys, ...args);
      throw err;
    }
  };
}
