import type { NextFunction, Request, Response } from "express";
import { BrokerError } from "../shared/errors.js";

/** Addresses tracked at once; the oldest window is dropped first beyond that. */
const MAX_TRACKED = 100_000;

/**
 * In front of authentication: a client address whose assertions were rejected more than
 * `rejectionsPerMinute` times this minute is refused (429, `Retry-After`) before anything is verified or
 * written. It costs nothing on the request path of callers that authenticate (an in-memory lookup), and
 * bounds what one address can make the broker verify and record. Per process; `req.ip` honours
 * `server.trust_proxy`.
 */
export function createAddressGuard(deps: { rejectionsPerMinute: number; now: () => number }) {
  let window = Math.floor(deps.now() / 60_000);
  let counts = new Map<string, number>();

  function current(): Map<string, number> {
    const now = Math.floor(deps.now() / 60_000);
    if (now !== window) {
      window = now;
      counts = new Map();
    }
    return counts;
  }

  return {
    middleware(req: Request, _res: Response, next: NextFunction): void {
      const used = current().get(req.ip ?? "") ?? 0;
      if (used < deps.rejectionsPerMinute) {
        next();
        return;
      }
      const retryAfter = Math.max(1, Math.ceil(((window + 1) * 60_000 - deps.now()) / 1000));
      next(
        new BrokerError("rate_limited", "Too many rejected assertions from this address; slow down.", {
          headers: { "Retry-After": String(retryAfter) },
        }),
      );
    },
    /** Counts one rejected assertion from `address`; returns whether the address is now over its budget. */
    rejected(address: string): boolean {
      const map = current();
      if (!map.has(address) && map.size >= MAX_TRACKED) map.delete(map.keys().next().value as string);
      const used = (map.get(address) ?? 0) + 1;
      map.set(address, used);
      return used > deps.rejectionsPerMinute;
    },
  };
}

export type AddressGuard = ReturnType<typeof createAddressGuard>;
