import type { Redis } from "ioredis";

/** Total calls of every command since the server started (INFO commandstats). */
export async function commandCalls(redis: Redis): Promise<number> {
  const info = await redis.info("commandstats");
  let calls = 0;
  for (const match of info.matchAll(/calls=(\d+)/g)) calls += Number(match[1]);
  return calls;
}

/**
 * The commands `run` made a Redis server of a test's own execute (the one INFO that reads the second total
 * left out), with what `run` returned and how long it took.
 */
export async function countCommands<T>(
  redis: Redis,
  run: () => Promise<T>,
): Promise<{ value: T; commands: number; ms: number }> {
  const before = await commandCalls(redis);
  const started = performance.now();
  const value = await run();
  const ms = performance.now() - started;
  return { value, commands: (await commandCalls(redis)) - before - 1, ms };
}
