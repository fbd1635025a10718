import type { NextFunction, Request, Response } from "express";
import type { Clock } from "../shared/clock.js";
import { BrokerError } from "../shared/errors.js";
import type { RedisClient } from "../shared/redis.js";
import { principalOf } from "./principal-of.js";

/** Per-principal fixed one-minute window in Redis, shared by every api replica. */
export function createRateLimit(deps: {
  redis: RedisClient;
  keyPrefix: string;
  perMinute: number;
  clock: Clock;
}) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const now = deps.clock.now();
    const window = Math.floor(now / 60_000);
    const key = `${deps.keyPrefix}:rl:${principalOf(req).id}:${window}`;
    const [[incrErr, count] = [], [expireErr] = []] =
      (await deps.redis.multi().incr(key).pexpire(key, 120_000).exec()) ?? [];
    if (incrErr || expireErr) throw incrErr ?? expireErr;
    if (Number(count) > deps.perMinute) {
      const retryAfter = Math.max(1, Math.ceil(((window + 1) * 60_000 - now) / 1000));
      throw new BrokerError("rate_limited", "Too many requests; slow down.", {
        headers: { "Retry-After": String(retryAfter) },
      });
    }
    next();
  };
}
