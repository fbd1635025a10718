import type { Redis } from "ioredis";
import { processCpuMicros } from "./processes.js";
import { diffCounts, type ProxyCounts, type RedisProxy } from "./redis-proxy.js";
import {
  diffRedis,
  type RedisDelta,
  type RedisSnapshot,
  redisSnapshot,
  subtractIdle,
} from "./redis-stats.js";
import { sleep } from "./stats.js";

/**
 * Snapshots taken right before and right after a measured load window: CPU of named processes, Redis's
 * server-wide counters and, when one is in the path, the counting proxy's totals.
 */
export interface ProbeTargets {
  redis: Redis;
  /** name → pid, e.g. `{ api: 1234, worker: 1235 }`. */
  pids: Record<string, number>;
  proxy?: RedisProxy;
}

interface ProbeSnapshot {
  at: number;
  cpu: Record<string, number>;
  redis: RedisSnapshot;
  proxy?: ProxyCounts;
}

export interface WindowDelta {
  seconds: number;
  /** CPU µs each process used in the window. */
  cpuMicros: Record<string, number>;
  redis: RedisDelta;
  proxy?: ProxyCounts;
}

export async function probe(targets: ProbeTargets): Promise<ProbeSnapshot> {
  const redis = await redisSnapshot(targets.redis);
  const cpu = Object.fromEntries(
    Object.entries(targets.pids).map(([name, pid]) => [name, processCpuMicros(pid)] as const),
  );
  return { at: performance.now(), cpu, redis, proxy: targets.proxy?.counts() };
}

export function diffProbe(before: ProbeSnapshot, after: ProbeSnapshot): WindowDelta {
  const cpuMicros = Object.fromEntries(
    Object.entries(after.cpu).map(([name, micros]) => [name, micros - (before.cpu[name] ?? 0)] as const),
  );
  return {
    seconds: (after.at - before.at) / 1000,
    cpuMicros,
    redis: diffRedis(before.redis, after.redis),
    proxy: before.proxy && after.proxy ? diffCounts(before.proxy, after.proxy) : undefined,
  };
}

/** The same probes over a quiet window of `seconds` (background: other Redis clients, timers). */
export async function measureIdle(targets: ProbeTargets, seconds: number): Promise<WindowDelta> {
  const before = await probe(targets);
  await sleep(seconds * 1000);
  return diffProbe(before, await probe(targets));
}

/** Per-issuance Redis figures of a window, the idle rate subtracted. */
export function redisPerIssuance(
  window: WindowDelta,
  idle: WindowDelta,
  issuances: number,
): { commands: number; cpuMicros: number; net: RedisDelta } {
  const net = subtractIdle(window.redis, idle.redis);
  return { commands: net.commands / issuances, cpuMicros: net.cpuMicros / issuances, net };
}
