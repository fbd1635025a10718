import type { Redis } from "ioredis";

/**
 * Server-wide Redis counters from INFO: commands executed (commandstats, the bench's own INFO calls left
 * out) and CPU the server used. They cover every client of that Redis — also the worker process and anything
 * else on the machine using it — so the bench measures the idle rate just before a window and subtracts it.
 */
export interface RedisSnapshot {
  at: number;
  commands: number;
  /** used_cpu_user + used_cpu_sys, µs. */
  cpuMicros: number;
  perCommand: Record<string, number>;
}

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

export async function redisSnapshot(redis: Redis): Promise<RedisSnapshot> {
  const [stats, cpu] = await Promise.all([redis.info("commandstats"), redis.info("cpu")]);
  const perCommand: Record<string, number> = {};
  let commands = 0;
  for (const [key, value] of parseInfo(stats)) {
    if (!key.startsWith("cmdstat_")) continue;
    const name = key.slice("cmdstat_".length);
    if (name === "info") continue;
    const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
    perCommand[name] = calls;
    commands += calls;
  }
  const fields = parseInfo(cpu);
  const cpuSeconds = Number(fields.get("used_cpu_user") ?? 0) + Number(fields.get("used_cpu_sys") ?? 0);
  return { at: performance.now(), commands, cpuMicros: cpuSeconds * 1_000_000, perCommand };
}

export interface RedisDelta {
  seconds: number;
  commands: number;
  cpuMicros: number;
  /** Commands that moved in the window, most frequent first. */
  perCommand: Record<string, number>;
}

export function diffRedis(before: RedisSnapshot, after: RedisSnapshot): RedisDelta {
  const moved = Object.entries(after.perCommand)
    .map(([name, calls]) => [name, calls - (before.perCommand[name] ?? 0)] as const)
    .filter(([, calls]) => calls > 0)
    .sort((a, b) => b[1] - a[1]);
  return {
    seconds: (after.at - before.at) / 1000,
    commands: after.commands - before.commands,
    cpuMicros: after.cpuMicros - before.cpuMicros,
    perCommand: Object.fromEntries(moved),
  };
}

/** `window` minus what `idle` (a quiet window just before) would have done in the same time. */
export function subtractIdle(window: RedisDelta, idle: RedisDelta): RedisDelta {
  const scale = idle.seconds > 0 ? window.seconds / idle.seconds : 0;
  return {
    seconds: window.seconds,
    commands: Math.max(0, window.commands - idle.commands * scale),
    cpuMicros: Math.max(0, window.cpuMicros - idle.cpuMicros * scale),
    perCommand: window.perCommand,
  };
}
