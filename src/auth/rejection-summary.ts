import type { AuditLog } from "../audit/audit-log.js";
import type { AuditEventInput } from "../audit/audit-types.js";
import type { Logger } from "../shared/logger.js";

/** How rejected assertions are kept: a few in full, the rest counted. */
export interface RejectionSummaryOptions {
  /** Length of one summary interval. */
  intervalMs: number;
  /** Rejections recorded in full per issuer and reason per interval; the rest are only counted. */
  sampledPerInterval: number;
  /** Addresses named in a summary, the busiest first. */
  topAddresses: number;
}

interface Bucket {
  issuer: string;
  reason: string;
  count: number;
  sampled: number;
  addresses: Map<string, number>;
}

/** Distinct addresses tracked per bucket (beyond that, new ones are counted under `other`). */
const MAX_ADDRESSES = 1_000;

/**
 * Turns a flood of rejected assertions into bounded evidence: per issuer and reason, the first
 * `sampledPerInterval` rejections of each interval become `assertion.rejected` events (with the client
 * address), and at the end of the interval one `assertion.rejections` event says how many there were in all
 * and from which addresses ("5,000 rejected tokens from 203.0.113.7 in this minute"). Per process: each
 * replica summarises what it saw. Appends are best effort (the caller gets its 401 regardless).
 */
export function createRejectionSummary(deps: {
  audit: Pick<AuditLog, "append">;
  logger: Logger;
  now: () => number;
  options: RejectionSummaryOptions;
}) {
  let buckets = new Map<string, Bucket>();
  let intervalStart = deps.now();
  /** Best effort: a rejected caller gets its answer whether or not the log takes the event. */
  const append = async (event: AuditEventInput): Promise<void> => {
    await deps.audit.append(event).catch((err: unknown) => {
      deps.logger.warn({ error: String(err) }, "cannot audit rejected assertions");
    });
  };

  function bucketOf(issuer: string, reason: string): Bucket {
    const key = `${issuer}\u0000${reason}`;
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = { issuer, reason, count: 0, sampled: 0, addresses: new Map() };
      buckets.set(key, bucket);
    }
    return bucket;
  }

  function flush(): Promise<unknown> {
    const done = [...buckets.values()];
    const start = intervalStart;
    buckets = new Map();
    intervalStart = deps.now();
    const writes = done.map((bucket) => {
      const top = [...bucket.addresses.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, deps.options.topAddresses)
        .map(([address, count]) => ({ address, count }));
      return append({
        type: "assertion.rejections",
        actor: null,
        reason: bucket.reason,
        details: {
          issuer: bucket.issuer,
          count: bucket.count,
          sampled: bucket.sampled,
          from: new Date(start).toISOString(),
          until: new Date(intervalStart).toISOString(),
          top_addresses: top,
        },
      });
    });
    return Promise.all(writes);
  }

  const timer = setInterval(() => void flush(), deps.options.intervalMs);
  timer.unref();

  return {
    /** Records one rejection; resolves once its sampled event (if any) is written. */
    async record(rejection: {
      issuer: string;
      reason: string;
      address: string;
      path: string;
      method: string;
    }) {
      const bucket = bucketOf(rejection.issuer, rejection.reason);
      bucket.count++;
      const known = bucket.addresses.has(rejection.address) || bucket.addresses.size < MAX_ADDRESSES;
      const address = known ? rejection.address : "other";
      bucket.addresses.set(address, (bucket.addresses.get(address) ?? 0) + 1);
      if (bucket.sampled >= deps.options.sampledPerInterval) return;
      bucket.sampled++;
      await append({
        type: "assertion.rejected",
        actor: null,
        reason: rejection.reason,
        details: {
          path: rejection.path,
          method: rejection.method,
          issuer: rejection.issuer,
          address: rejection.address,
        },
      });
    },
    /** Writes the current interval's summaries now (shutdown, tests). */
    flush,
    close(): Promise<unknown> {
      clearInterval(timer);
      return flush();
    },
  };
}

export type RejectionSummary = ReturnType<typeof createRejectionSummary>;
