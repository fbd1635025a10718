import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { credentialKeys } from "../src/credentials/credential-keys.js";
import { taskKeys } from "../src/tasks/task-keys.js";
import { type Harness, startHarness } from "../test/support/broker-harness.js";
import { deleteByPrefix, TEST_REDIS_URL } from "../test/support/redis-keys.js";

/** Workloads of issuer "ci" may run tasks and get signer credentials; "ci:operator" may revoke and audit. */
export const BENCH_POLICY = `
@id("bench-tasks")
permit (principal is Credbroker::Workload, action in [Credbroker::Action::"OpenTask", Credbroker::Action::"DelegateTask",
  Credbroker::Action::"CloseTask", Credbroker::Action::"ReadTask"], resource is Credbroker::Task)
when { principal.issuer == "ci" };

@id("bench-credentials")
@max_ttl("900")
permit (principal is Credbroker::Workload, action == Credbroker::Action::"RequestCredential", resource)
when { principal.issuer == "ci" };

@id("bench-operator")
permit (principal == Credbroker::Workload::"ci:operator", action in [Credbroker::Action::"EmergencyRevoke",
  Credbroker::Action::"ReadAudit"], resource);
`;

export const BENCH_PROFILE = "bench-api";
export const BENCH_AUDIENCE = "https://bench.internal";
export const REDIS_URL = TEST_REDIS_URL;

/** A whole broker (api + worker roles) on its own key prefix, plus the tokens and keys the scenarios use. */
export interface BenchBroker {
  harness: Harness;
  prefix: string;
  baseUrl: string;
  /** A connection of the bench's own, for polling state and measuring memory. */
  redis: Redis;
  tasks: ReturnType<typeof taskKeys>;
  credentials: ReturnType<typeof credentialKeys>;
  /** Workload token for `ci:<sub>`, valid for an hour (cached per subject). */
  token(sub: string): Promise<string>;
}

export const newBenchPrefix = (): string => `bench-${randomBytes(4).toString("hex")}`;

export async function startBenchBroker(prefix: string): Promise<BenchBroker> {
  const harness = await startHarness({
    name: "bench",
    prefix,
    policy: BENCH_POLICY,
    config: {
      profiles: {
        [BENCH_PROFILE]: {
          provider: "signer",
          max_ttl_seconds: 900,
          audience: BENCH_AUDIENCE,
          scopes: ["bench:read", "bench:write"],
        },
      },
      // Raised so the per-principal limit never throttles the load; everything else stays production-like.
      limits: {
        requests_per_minute: 1_000_000_000,
        max_task_ttl_seconds: 86_400,
        open_tasks_per_principal: 1_000_000,
        credentials_per_task: 100_000,
      },
      // A long reconcile interval: deadlines are met by the BullMQ delayed jobs, not the reconciler's sweep.
      revocation: {
        reconcile_interval_seconds: 60,
        pending_grace_seconds: 120,
        backoff_ms: 1000,
        attempts: 8,
      },
    },
  });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const tokens = new Map<string, Promise<string>>();
  return {
    harness,
    prefix,
    baseUrl: harness.baseUrl,
    redis,
    tasks: taskKeys(prefix),
    credentials: credentialKeys(prefix),
    token(sub) {
      let token = tokens.get(sub);
      if (token === undefined) {
        token = harness.issuer.mint({ sub, aud: "credbroker-test" }, { expiresInSeconds: 3600 });
        tokens.set(sub, token);
      }
      return token;
    },
  };
}

/** Stops the broker and deletes every key under the prefix; never throws (logs instead). */
export async function stopBenchBroker(broker: BenchBroker | undefined, prefix: string): Promise<void> {
  if (broker) {
    await broker.harness
      .close()
      .catch((err: unknown) => console.error(`[bench] broker close failed: ${String(err)}`));
    broker.redis.disconnect();
  }
  // The harness deletes the prefix too, but only if its close got that far; do it again unconditionally.
  await deleteByPrefix(REDIS_URL, prefix).catch((err: unknown) =>
    console.error(`[bench] could not delete keys under ${prefix}: ${String(err)}`),
  );
}

/** Counts keys still under the prefix (used to confirm cleanup). */
export async function countKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = "0";
    let count = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      count += keys.length;
    } while (cursor !== "0");
    return count;
  } finally {
    redis.disconnect();
  }
}
