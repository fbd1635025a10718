import { randomUUID } from "node:crypto";
import { luaScript } from "../shared/lua-script.js";
import type { RedisClient } from "../shared/redis.js";
import { auditKeys } from "./audit-keys.js";
import { SEAL_LOCK_RELEASE_SCRIPT } from "./audit-scripts.js";

const releaseScript = luaScript(SEAL_LOCK_RELEASE_SCRIPT);

/** How long a holder may keep the lock before it lapses (a crashed holder frees it by then). */
const LOCK_TTL_MS = 30_000;
const RETRY_MS = 25;

/**
 * `<p>:{audit}:seal-lock`, held by whoever signs a checkpoint or trims: the periodic sealer of every worker
 * and `POST /v1/audit/checkpoints` on every api. One holder at a time, so two processes never sign the same
 * head (the checkpoint set is keyed by member, so both would be kept).
 */
export interface SealLock {
  /** Runs `work` holding the lock; `{ held: false }` at once when another holder has it. */
  tryWith<T>(work: () => Promise<T>): Promise<{ held: true; value: T } | { held: false }>;
  /** Runs `work` holding the lock, waiting up to `waitMs` for it; `{ held: false }` if it never came. */
  waitWith<T>(work: () => Promise<T>, waitMs: number): Promise<{ held: true; value: T } | { held: false }>;
}

export function createSealLock(deps: { redis: RedisClient; keyPrefix: string }): SealLock {
  const key = auditKeys(deps.keyPrefix).sealLock;

  async function tryWith<T>(work: () => Promise<T>) {
    const token = randomUUID();
    if ((await deps.redis.set(key, token, "PX", LOCK_TTL_MS, "NX")) !== "OK") return { held: false as const };
    try {
      return { held: true as const, value: await work() };
    } finally {
      await releaseScript(deps.redis, [key], [token]);
    }
  }

  async function waitWith<T>(work: () => Promise<T>, waitMs: number) {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const result = await tryWith(work);
      if (result.held || Date.now() >= deadline) return result;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  return { tryWith, waitWith };
}
