import { z } from "zod";

const nodeAddress = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535),
  })
  .strict();

/** Settings shared by the Sentinel and Cluster topologies; passwords only ever come from env vars. */
const authAndTls = {
  /** ACL user of the data nodes (not a secret); unset: the `default` user. */
  username: z.string().min(1).optional(),
  /** Env var holding the data nodes' password; an unset or empty variable means no AUTH. */
  password_env: z.string().min(1).default("REDIS_PASSWORD"),
  /** TLS to every node (and, for Sentinel, to the Sentinels). */
  tls: z.boolean().default(false),
};

const sentinelSchema = z
  .object({
    /** Sentinels to ask for the current master; one that answers is enough. */
    sentinels: z.array(nodeAddress).min(1),
    /** The master group name the Sentinels monitor (`sentinel monitor <name> …`). */
    name: z.string().min(1),
    db: z.number().int().min(0).max(15).default(0),
    /** Env var holding the Sentinels' own password (`requirepass` on the Sentinels); unset: none. */
    sentinel_password_env: z.string().min(1).default("REDIS_SENTINEL_PASSWORD"),
    ...authAndTls,
  })
  .strict();

const clusterSchema = z
  .object({
    /** Seed nodes; the rest of the cluster is discovered from them. Reads and writes go to masters. */
    nodes: z.array(nodeAddress).min(1),
    ...authAndTls,
  })
  .strict();

/**
 * The `redis` section: exactly one topology — `url` (one server), `sentinel` or `cluster` — plus the key
 * prefix every replica of one broker shares.
 */
export const redisConfigSchema = z
  .object({
    /** A single server: `redis://[user:password@]host:port/db` or `rediss://` (env `REDIS_URL`). */
    url: z
      .string()
      .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
      .optional(),
    key_prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/)
      .default("cb"),
    /** A master found through Redis Sentinel; followed across failovers. */
    sentinel: sentinelSchema.optional(),
    /** A Redis Cluster. */
    cluster: clusterSchema.optional(),
    /**
     * A command of the request path (stores, audit, rate limit) that gets no reply within this many ms fails,
     * so a stalled Redis turns into a 503 instead of a hung request. Not applied to the queue's connection.
     */
    command_timeout_ms: z.number().int().min(100).max(60_000).default(1_500),
    /** How long a connection attempt may take (TCP connect plus the ready check). */
    connect_timeout_ms: z.number().int().min(100).max(60_000).default(5_000),
    /** TCP keep-alive: the first probe after this many ms of silence on a connection. */
    keepalive_ms: z.number().int().min(1_000).max(600_000).default(10_000),
    /** How often every role re-reads `maxmemory-policy` (it must stay `noeviction`). */
    eviction_check_seconds: z.number().int().min(1).max(3_600).default(30),
  })
  .strict()
  .superRefine((redis, ctx) => {
    const chosen = [redis.url, redis.sentinel, redis.cluster].filter((topology) => topology !== undefined);
    if (chosen.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message:
          chosen.length === 0
            ? "set one topology: url (or the REDIS_URL env var), sentinel or cluster"
            : "set only one topology of url (or the REDIS_URL env var), sentinel and cluster",
      });
    }
  });

export type RedisConfig = z.infer<typeof redisConfigSchema>;
export type RedisSentinelConfig = z.infer<typeof sentinelSchema>;
export type RedisClusterConfig = z.infer<typeof clusterSchema>;
