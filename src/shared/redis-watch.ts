import type { EventEmitter } from "node:events";
import type { Logger } from "./logger.js";

/**
 * What an operator should read about one connection (the commands connection, the queue's): one JSON line
 * when a condition starts, one when it ends, and never a stack trace for an expected outage. ioredis and
 * BullMQ emit an `error` for every failed reconnect attempt; only a change of condition is logged.
 */
export interface RedisWatch {
  /** The current problem in words (e.g. `connect ECONNREFUSED 127.0.0.1:6379`), or null while connected. */
  problem(): string | null;
}

/** The message of a connection error, without its stack; ioredis puts the errno code in the message. */
export function describeConnectionError(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0] ?? err.name;
  return String(err);
}

/**
 * Watches `emitter` (an ioredis client, a BullMQ Worker or Queue). `ready` ends a condition; only ioredis
 * clients emit it, so for BullMQ emitters pass the client whose readiness stands for theirs as `readyFrom`.
 */
export function watchRedis(
  emitter: EventEmitter,
  label: string,
  logger: Logger,
  readyFrom: EventEmitter = emitter,
): RedisWatch {
  let problem: string | null = null;

  function begin(condition: string): void {
    if (condition === problem) return;
    problem = condition;
    logger.warn({ redis: label, error: condition }, "Redis connection problem");
  }

  emitter.on("error", (err: unknown) => begin(describeConnectionError(err)));
  readyFrom.on("ready", () => {
    if (problem === null) return;
    problem = null;
    logger.info({ redis: label }, "Redis connection restored");
  });
  return { problem: () => problem };
}
