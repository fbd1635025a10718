import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface BrokerMetrics {
  readonly registry: Registry;
  credentialsIssued: Counter<"provider">;
  issuanceSeconds: Histogram<"provider">;
  revocations: Counter<"outcome" | "provider">;
  /** Registers the scrape-time readers of queue depth and the revoke_failed count. */
  observeGauges(read: {
    queueDepth: () => Promise<Record<string, number>>;
    revokeFailed: () => Promise<number>;
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
  return {
    registry,
    credentialsIssued,
    issuanceSeconds,
    revocations,
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
    },
  };
}
