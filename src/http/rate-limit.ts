import type { NextFunction, Request, Response } from "express";
import type { Clock } from "../shared/clock.js";
import { BrokerError } from "../shared/errors.js";
import { luaScript } from "../shared/lua-script.js";
import type { RedisClient } from "../shared/redis.js";
import { principalOf } from "./principal-of.js";
import { rateLimitKeys } from "./rate-limit-keys.js";
import { COUNT_REQUEST_SCRIPT } from "./rate-limit-scripts.js";

const countRequest = luaScript(COUNT_REQUEST_SCRIPT);

/** Per-principal fixed one-minute window in Redis (one round trip), shared by every api replica. */
export function createRateLimit(deps: {
  redis: RedisClient;
  keyPrefix: string;
  perMinute: number;
  clock: Clock;
}) {
  const keys = rateLimitKeys(deps.keyPrefix);
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const now = deps.clock.now();
    const window = Math.floor(now / 60_000);
    const key = keys.window(principalOf(req).id, window);
    const count = Number(await countRequest(deps.redis, [key], ["120000"]));
    if (count > deps.perMinute) {
      const retryAfter = Math.max(1, Math.ceil(((window + 1) * 60_000 - now) / 1000));
      throw new BrokerError("rate_limited", "Too many requests; slow down.", {
        headers: { "Retry-After": String(retryAfter) },
      });
    }
    next();
  };
}
