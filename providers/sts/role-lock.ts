import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * Deletes the lock only if this holder still owns it.
 * KEYS[1] = lock key
 * ARGV[1] = holder token
 * Result: 1 when released, 0 when the lock had expired or passed to another holder
 */
const RELEASE_SCRIPT = `
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
`;

/** A Redis lock with an expiry, so a holder that dies never blocks a role for longer than `ttlMs`. */
export interface RoleLock {
  /** The holder token, or null when someone else holds the lock. */
  tryAcquire(key: string): Promise<string | null>;
  /** Whether `token` still holds the lock (checked before writing to IAM). */
  holds(key: string, token: string): Promise<boolean>;
  release(key: string, token: string): Promise<void>;
}

export function createRoleLock(deps: {
  redis: Pick<Redis, "set" | "get" | "eval">;
  ttlMs: number;
}): RoleLock {
  const { redis } = deps;
  return {
    async tryAcquire(key) {
      const token = randomBytes(12).toString("base64url");
      const reply = await redis.set(key, token, "PX", deps.ttlMs, "NX");
      return reply === "OK" ? token : null;
    },
    async holds(key, token) {
      return (await redis.get(key)) === token;
    },
    async release(key, token) {
      await redis.eval(RELEASE_SCRIPT, 1, key, token);
    },
  };
}
