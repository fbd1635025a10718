import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";

export interface DevRedis {
  url: string;
  /** Where it came from, for the banner. */
  origin: "REDIS_URL" | "local" | "spawned";
  stop(): Promise<void>;
}

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function answersPing(url: string, timeoutMs = 700): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (await answersPing(url, 200)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("redis-server did not answer within 5 s");
}

/**
 * Dev mode's Redis: `REDIS_URL`, else 127.0.0.1:6379 if it answers, else a `redis-server` spawned on a free
 * port with no persistence (stopped with the broker).
 */
export async function resolveDevRedis(env: Readonly<Record<string, string | undefined>>): Promise<DevRedis> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, origin: "REDIS_URL", stop: async () => undefined };
  const local = "redis://127.0.0.1:6379/0";
  if (await answersPing(local)) return { url: local, origin: "local", stop: async () => undefined };
  if (spawnSync("redis-server", ["--version"]).error) {
    throw new Error(
      "no Redis found: nothing answers on 127.0.0.1:6379 and redis-server is not installed. " +
        "Install it (Debian/Ubuntu: `apt-get install redis-server`) or set REDIS_URL.",
    );
  }
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const url = `redis://127.0.0.1:${port}/0`;
  await waitForPing(url, child, 5_000);
  return {
    url,
    origin: "spawned",
    stop: async () => {
      child.kill("SIGTERM");
    },
  };
}
