/**
 * Keeps an outage from flooding the log: the first occurrence of a condition is logged, repeats within
 * `windowMs` are only counted, and the next line logged for it says how many were held back.
 */
export interface LogThrottle {
  /** Null to stay quiet; otherwise how many repeats were held back since the last line for `key`. */
  admit(key: string): number | null;
}

export function createLogThrottle(windowMs: number, now: () => number = Date.now): LogThrottle {
  const seen = new Map<string, { at: number; held: number }>();
  return {
    admit(key) {
      const at = now();
      const last = seen.get(key);
      if (last && at - last.at < windowMs) {
        last.held++;
        return null;
      }
      if (seen.size > 1_000) seen.clear();
      seen.set(key, { at, held: 0 });
      return last?.held ?? 0;
    },
  };
}
