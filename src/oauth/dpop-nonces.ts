import { randomBytes } from "node:crypto";
import type { Clock } from "../shared/clock.js";
import type { RedisClient } from "../shared/redis.js";
import { oauthKeys } from "./oauth-keys.js";

/** A server nonce lives for one window and is accepted through the next (RFC 9449 §8). */
export const DPOP_NONCE_WINDOW_MS = 60_000;

/**
 * DPoP server nonces shared by every replica: one random nonce per window, created with `SET NX` (the first
 * replica to need it wins) and kept for two windows, so a nonce handed out late in a window still works.
 */
export interface DpopNonces {
  /** The nonce to hand out now. */
  current(): Promise<string>;
  /** Whether `nonce` is this window's or the previous one's. */
  accepts(nonce: string): Promise<boolean>;
}

export function createDpopNonces(deps: {
  redis: Pick<RedisClient, "set" | "get">;
  keyPrefix: string;
  clock: Clock;
}): DpopNonces {
  const keys = oauthKeys(deps.keyPrefix);
  const windowOf = () => Math.floor(deps.clock.now() / DPOP_NONCE_WINDOW_MS);

  async function nonceOf(window: number): Promise<string> {
    const key = keys.dpopNonce(window);
    const fresh = randomBytes(16).toString("base64url");
    const reply = await deps.redis.set(key, fresh, "PX", 2 * DPOP_NONCE_WINDOW_MS, "NX", "GET");
    return reply ?? fresh;
  }

  return {
    current: () => nonceOf(windowOf()),
    async accepts(nonce) {
      const window = windowOf();
      const [now, before] = await Promise.all([nonceOf(window), deps.redis.get(keys.dpopNonce(window - 1))]);
      return nonce === now || nonce === before;
    },
  };
}
