import type { RedisConfig } from "../config/redis-config.js";
import type { Logger } from "../shared/logger.js";
import { connectRedis, describeRedis, type RedisClient, waitForRedis } from "../shared/redis.js";
import { evictionProblem } from "../shared/redis-eviction.js";
import { type RedisWatch, watchRedis } from "../shared/redis-watch.js";

/** The two connections every role opens, each watched so an outage is one log line, not a stack per retry. */
export interface StoreConnections {
  /** Where Redis is, in words (host:port, never a password). */
  readonly target: string;
  readonly redis: RedisClient;
  readonly queueConnection: RedisClient;
  readonly commandsWatch: RedisWatch;
  readonly queueWatch: RedisWatch;
  disconnect(): void;
}

/** Thrown when the broker must not start; `main` prints its message as one line. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/**
 * Connects, waits until both connections are ready, and refuses to start on a Redis that may evict keys.
 * Every failure is a `StartupError` whose message names the fix.
 */
export async function openStoreConnections(
  config: RedisConfig,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<StoreConnections> {
  const target = describeRedis(config);
  const redis = connectRedis(config, "commands", env);
  const queueConnection = connectRedis(config, "blocking", env);
  const commandsWatch = watchRedis(redis, "commands", logger);
  const queueWatch = watchRedis(queueConnection, "queue", logger);
  const disconnect = () => {
    redis.disconnect();
    queueConnection.disconnect();
  };
  try {
    const wait = { timeoutMs: Math.max(config.connect_timeout_ms, 5_000), target };
    await Promise.all([
      waitForRedis(redis, { ...wait, lastError: commandsWatch.problem }),
      waitForRedis(queueConnection, { ...wait, lastError: queueWatch.problem }),
    ]);
    const unsafe = await evictionProblem(redis, target);
    if (unsafe) throw new StartupError(`refusing to start: ${unsafe}`);
  } catch (err) {
    disconnect();
    throw err instanceof StartupError
      ? err
      : new StartupError(err instanceof Error ? err.message : String(err));
  }
  return { target, redis, queueConnection, commandsWatch, queueWatch, disconnect };
}
