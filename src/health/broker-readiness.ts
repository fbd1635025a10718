import type { PolicyEngine } from "../policy/policy-engine.js";
import type { RevocationQueue } from "../revocation/revocation-queue.js";
import type { EvictionWatch } from "../shared/redis-eviction.js";
import { describeConnectionError } from "../shared/redis-watch.js";
import { createReadiness, type Readiness } from "./readiness.js";
import type { StoreConnections } from "./store-connections.js";

/**
 * What `/readyz` checks, in both roles: each connection answers (a stalled one says so within the probe's
 * deadline), the policies are loaded, and Redis cannot evict the broker's records.
 */
export function brokerReadiness(deps: {
  store: StoreConnections;
  queue: Pick<RevocationQueue, "ping">;
  policy: Pick<PolicyEngine, "info">;
  eviction: Pick<EvictionWatch, "problem">;
}): Readiness {
  const { store } = deps;
  const reachable = (problem: string | null) => (problem ? `${store.target} unreachable (${problem})` : null);
  return createReadiness([
    {
      name: "redis",
      async run() {
        if (store.redis.status !== "ready")
          return reachable(store.commandsWatch.problem() ?? store.redis.status);
        return store.redis.ping().then(
          () => null,
          (err: unknown) => reachable(describeConnectionError(err)),
        );
      },
    },
    {
      name: "queue",
      async run() {
        if (store.queueConnection.status !== "ready") {
          return reachable(store.queueWatch.problem() ?? store.queueConnection.status);
        }
        return deps.queue.ping().then(
          () => null,
          (err: unknown) => reachable(describeConnectionError(err)),
        );
      },
    },
    {
      name: "policies",
      run: async () => (deps.policy.info().hash.length === 0 ? "no policy set loaded" : null),
    },
    { name: "eviction", run: async () => deps.eviction.problem() },
  ]);
}
