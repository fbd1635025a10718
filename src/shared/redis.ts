import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { RedisConfig } from "../config/redis-config.js";
import { coalesceWrites } from "./coalesced-writes.js";

/**
 * A connection to the broker's Redis, whatever its topology: ioredis' `Redis` (one server, or the master
 * a Sentinel names) or `Cluster`. Both classes carry the same command typings, so code written against
 * this union runs on all three, without casts. What Cluster adds is a rule the types cannot express: the
 * keys of one Lua script, MULTI or explicit pipeline must share one slot (one hash tag). Keys of
 * different slots go out as separate commands (see `redis-batch.ts`).
 */
export type RedisClient = Redis | Cluster;

/**
 * `commands`: requests, stores and audit. It fails fast (2 retries, no offline queue, and a per-command
 * timeout), so a dead or stalled Redis turns into a quick 503 instead of a hung request. `blocking`: BullMQ,
 * which blocks and needs `maxRetriesPerRequest: null`; it queues commands while reconnecting. Both use TCP
 * keep-alive, so a peer that vanished without closing is noticed.
 *
 * Neither auto-pipelines: ioredis keeps one auto-pipeline in flight per node, so under concurrent
 * requests every command waits for the previous batch's round trip (measured slower than sending at once).
 * Instead the `commands` connection to one server coalesces the socket writes of one event-loop turn
 * (`coalesced-writes.ts`): the same single write, with no wait for an earlier reply. A Cluster writes as is.
 */
export type RedisRole = "commands" | "blocking";

/** Opens a connection to the configured topology; passwords come from the env vars the config names. */
export function connectRedis(
  config: RedisConfig,
  role: RedisRole,
  env: Readonly<Record<string, string | undefined>>,
): RedisClient {
  const commands = role === "commands";
  const perNode: RedisOptions = {
    maxRetriesPerRequest: commands ? 2 : null,
    connectTimeout: config.connect_timeout_ms,
    keepAlive: config.keepalive_ms,
    // BullMQ's blocking commands wait on purpose; only the request path gets a reply deadline.
    ...(commands ? { commandTimeout: config.command_timeout_ms } : {}),
  };
  const queueing: RedisOptions = { enableOfflineQueue: !commands };
  const secret = (name: string): string | undefined => env[name] || undefined;

  if (config.cluster) {
    const { nodes, username, password_env, tls } = config.cluster;
    return new Cluster(nodes, {
      ...queueing,
      redisOptions: { ...perNode, username, password: secret(password_env), ...(tls ? { tls: {} } : {}) },
    });
  }
  if (config.sentinel) {
    const sentinel = config.sentinel;
    return coalesced(
      new Redis({
        ...perNode,
        ...queueing,
        sentinels: sentinel.sentinels,
        name: sentinel.name,
        db: sentinel.db,
        username: sentinel.username,
        password: secret(sentinel.password_env),
        sentinelPassword: secret(sentinel.sentinel_password_env),
        // Reconnect as soon as a Sentinel announces a new master, not when the old one is demoted: writes
        // the old master takes in between are lost when it resyncs from the new one.
        failoverDetector: true,
        ...(sentinel.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      }),
      role,
    );
  }
  if (config.url !== undefined) return coalesced(new Redis(config.url, { ...perNode, ...queueing }), role);
  throw new Error("redis: no topology configured (the config schema requires url, sentinel or cluster)");
}

/** The request path's connection shares one socket write per event-loop turn (`coalesced-writes.ts`). */
function coalesced(redis: Redis, role: RedisRole): Redis {
  if (role === "commands") coalesceWrites(redis);
  return redis;
}

/** Where the config points, for messages: host:port only, never a password. */
export function describeRedis(config: RedisConfig): string {
  const list = (nodes: { host: string; port: number }[]) =>
    nodes.map((n) => `${n.host}:${n.port}`).join(", ");
  if (config.cluster) return `the Redis Cluster at ${list(config.cluster.nodes)}`;
  if (config.sentinel)
    return `the master "${config.sentinel.name}" of the Sentinels at ${list(config.sentinel.sentinels)}`;
  try {
    const url = new URL(config.url ?? "");
    return `Redis at ${url.hostname}:${url.port || "6379"}`;
  } catch {
    return "Redis";
  }
}

/**
 * Resolves once the connection is ready (a Cluster: slots known), or rejects after `timeoutMs` with a
 * sentence an operator can act on: where Redis was expected, the last connection error, and the fix.
 */
export async function waitForRedis(
  redis: RedisClient,
  options: { timeoutMs: number; target: string; lastError: () => string | null },
): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      const cause = options.lastError();
      reject(
        new Error(
          `cannot reach ${options.target} within ${Math.round(options.timeoutMs / 1000)} s` +
            `${cause ? ` (${cause})` : ""}: start Redis, or point redis.url (REDIS_URL), redis.sentinel or ` +
            "redis.cluster at it",
        ),
      );
    }, options.timeoutMs);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
