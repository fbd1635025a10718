import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface BrokerMetrics {
  readonly registry: Registry;
  credentialsIssued: Counter<"provider">;
  issuanceSeconds: Histogram<"provider">;
  revocations: Counter<"outcome" | "provider">;
  /** Requests refused by a per-principal quota, by limit. */
  quotaRejections: Counter<"limit">;
  /** 1 while every Redis master keeps `maxmemory-policy noeviction`, else 0. */
  redisEvictionSafe: Gauge;
  /** Provider results the broker could not record (Redis failed after issuance), by what became of them. */
  unrecorded: Counter<"outcome" | "provider">;
  /** SET push attempts to SSF receivers, by outcome (delivered, retry, dropped). */
  signalDeliveries: Counter<"outcome">;
  /** Registers the scrape-time readers of queue depth and the revoke_failed count. */
  observeGauges(read: {
    queueDepth: () => Promise<Record<string, number>>;
    revokeFailed: () => Promise<number>;
    decisionCache: () => { hits: number; misses: number; uncacheable: number; entries: number };
  }): void;
}

/** Prometheus metrics in a registry of their own, so tests can build several brokers in one process. */
export function createBrokerMetrics(): BrokerMetrics {
  const registry = new Registry();
  const credentialsIssued = new Counter({
    name: "credbroker_credentials_issued_total",
    help: "Credentials issued, by provider.",
    labelNames: ["provider"] as const,
    registers: [registry],
  });
  const issuanceSeconds = new Histogram({
    name: "credbroker_issuance_duration_seconds",
    help: "Time to issue a credential (policy, record, provider, activation), by provider.",
    labelNames: ["provider"] as const,
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const revocations = new Counter({
    name: "credbroker_revocations_total",
    help: "Revocation attempts by outcome (revoked, expired, retry, revoke_failed) and provider.",
    labelNames: ["outcome", "provider"] as const,
    registers: [registry],
  });
  const quotaRejections = new Counter({
    name: "credbroker_quota_rejections_total",
    help: "Requests refused with 429 quota_exceeded, by limit.",
    labelNames: ["limit"] as const,
    registers: [registry],
  });
  const redisEvictionSafe = new Gauge({
    name: "credbroker_redis_eviction_safe",
    help: "1 while Redis keeps maxmemory-policy noeviction (records cannot be evicted), 0 otherwise.",
    registers: [registry],
  });
  const unrecorded = new Counter({
    name: "credbroker_unrecorded_credentials_total",
    help:
      "Credentials a provider issued that the broker could not record (Redis failed): revoked at once " +
      "(revoked), recorded later (recorded) or still held in memory after every retry (held).",
    labelNames: ["outcome", "provider"] as const,
    registers: [registry],
  });
  const signalDeliveries = new Counter({
    name: "credbroker_signal_deliveries_total",
    help: "SET pushes to SSF stream receivers, by outcome (delivered, retry, dropped).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  return {
    registry,
    signalDeliveries,
    credentialsIssued,
    issuanceSeconds,
    revocations,
    quotaRejections,
    redisEvictionSafe,
    unrecorded,
    observeGauges(read) {
      new Gauge({
        name: "credbroker_queue_depth",
        help: "Jobs in the revocation queue, by state.",
        labelNames: ["state"] as const,
        registers: [registry],
        async collect() {
          const depth = await read.queueDepth();
          for (const [state, count] of Object.entries(depth)) this.set({ state }, count);
        },
      });
      new Gauge({
        name: "credbroker_revoke_failed",
        help: "Credentials whose revocation failed after every retry (need an operator).",
        registers: [registry],
        async collect() {
          this.set(await read.revokeFailed());
        },
      });
      new Gauge({
        name: "credbroker_policy_decisions_cached",
        help:
          "Policy decisions since the active policy set was loaded, by how the decision cache answered: " +
          "hit, miss, uncacheable (the action's policies read the clock); entries: decisions held.",
        labelNames: ["result"] as const,
        registers: [registry],
        collect() {
          const stats = read.decisionCache();
          for (const result of ["hits", "misses", "uncacheable", "entries"] as const) {
            this.set({ result }, stats[result]);
          }
        },
      });
    },
  };
}
