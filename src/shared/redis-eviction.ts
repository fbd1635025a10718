import { Cluster, type Redis } from "ioredis";
import type { Logger } from "./logger.js";
import type { RedisClient } from "./redis.js";

/**
 * The broker's records (tasks, credentials, signing keys, approvals) and its queue must never be evicted:
 * an evicted credential record is a credential nobody will revoke. Redis keeps every key only under
 * `maxmemory-policy noeviction` (writes fail with OOM instead, which the broker answers with 503).
 */
export const SAFE_EVICTION_POLICY = "noeviction";

/** The policy of one server: `CONFIG GET`, else `INFO memory` (managed services often disable CONFIG). */
async function policyOf(node: Redis): Promise<string> {
  try {
    const reply: unknown = await node.config("GET", "maxmemory-policy");
    if (Array.isArray(reply) && typeof reply[1] === "string") return reply[1];
  } catch {
    // CONFIG renamed, disabled or denied by ACL: INFO still says it.
  }
  const match = /^maxmemory_policy:(\S+)/m.exec(await node.info("memory"));
  if (!match?.[1]) throw new Error("neither CONFIG GET maxmemory-policy nor INFO memory names the policy");
  return match[1];
}

/** Every master's policy (one server, the Sentinel's master, or each Cluster master). */
async function policies(redis: RedisClient): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes("master") : [redis];
  return Promise.all(nodes.map(policyOf));
}

/** Null when every master is `noeviction`, else the sentence that names the problem and the fix. */
export async function evictionProblem(redis: RedisClient, target: string): Promise<string | null> {
  const found = [...new Set(await policies(redis))].filter((policy) => policy !== SAFE_EVICTION_POLICY);
  if (found.length === 0) return null;
  return (
    `${target} may evict keys (maxmemory-policy ${found.join(", ")}), which would silently drop credential ` +
    "records and revocation jobs: set maxmemory-policy noeviction (redis.conf, " +
    "CONFIG SET maxmemory-policy noeviction, or your provider's parameter group)"
  );
}

export interface EvictionWatch {
  /** The last problem seen (the policy is unsafe, or it could not be read), or null. */
  problem(): string | null;
  stop(): void;
}

/**
 * Re-reads the policy every `intervalMs`: a change is logged once, shown by `problem()` (readiness turns
 * 503) and reported through `onChange` (a metric). A read that fails keeps the last known state: a Redis
 * outage is the connection watch's to report, not this one's.
 */
export function watchEvictionPolicy(deps: {
  redis: RedisClient;
  target: string;
  intervalMs: number;
  logger: Logger;
  onChange: (safe: boolean) => void;
}): EvictionWatch {
  let problem: string | null = null;
  deps.onChange(true);
  async function check(): Promise<void> {
    const now = await evictionProblem(deps.redis, deps.target);
    if (now === problem) return;
    problem = now;
    deps.onChange(now === null);
    if (now) deps.logger.error({ redis: "commands", problem: now }, "Redis eviction policy is unsafe");
    else deps.logger.info({ redis: "commands" }, "Redis eviction policy is noeviction again");
  }
  const timer = setInterval(() => void check().catch(() => undefined), deps.intervalMs);
  timer.unref();
  return { problem: () => problem, stop: () => clearInterval(timer) };
}
