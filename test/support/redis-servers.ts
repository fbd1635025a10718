import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { freePort } from "../../src/dev/dev-redis.js";

/**
 * Throwaway Redis topologies for tests: `redis-server` processes on free loopback ports, without
 * persistence, each in a temporary directory. Every process is killed by `stop()`, and by a process exit
 * hook if a test run dies first.
 */

export interface NodeAddress {
  host: string;
  port: number;
}

/** Processes of one topology; `stop()` kills them all and removes their directory (safe to call twice). */
export interface RedisGroup {
  stop(): Promise<void>;
}

export interface StandaloneRedis extends RedisGroup {
  url: string;
  port: number;
  /** SIGSTOP: the server keeps its sockets open and answers nothing, as a frozen node or a partition does. */
  stall(): void;
  /** SIGCONT: the server answers again, with every key it had. */
  resume(): void;
  /** SIGKILL now (connections are refused), and a new server on the same port and files `afterMs` later. */
  crash(afterMs: number): Promise<void>;
}

export interface ClusterRedis extends RedisGroup {
  nodes: NodeAddress[];
}

export interface SentinelRedis extends RedisGroup {
  /** The `redis.sentinel` section for these servers. */
  sentinel: { sentinels: NodeAddress[]; name: string };
  /** The port the Sentinel names as master right now. */
  masterPort(): Promise<number>;
  /**
   * Promotes the replica with SENTINEL FAILOVER; resolves with its port once the Sentinel names it master.
   * The old master keeps taking writes until the Sentinel demotes it (up to ~10 s later), then loses them.
   */
  failover(): Promise<number>;
  /** Whether the server on `port` holds `key`. */
  holds(port: number, key: string): Promise<boolean>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Why these tests cannot run here, or null when `redis-server` and `redis-cli` are installed. */
export function redisServerMissing(): string | null {
  for (const binary of ["redis-server", "redis-cli"]) {
    if (spawnSync(binary, ["--version"]).error) return `${binary} is not installed`;
  }
  return null;
}

function newGroup(name: string) {
  const dir = mkdtempSync(path.join(tmpdir(), `credbroker-${name}-`));
  const children: ChildProcess[] = [];

  async function stop(): Promise<void> {
    for (const child of children) child.kill("SIGCONT");
    await Promise.all(
      children.splice(0).map(
        (child) =>
          new Promise<void>((resolve) => {
            running.delete(child);
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => child.kill("SIGKILL"), 2_000);
            child.once("exit", () => {
              clearTimeout(force);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }

  /** Starts `redis-server` with these arguments; resolves with its process once it answers PING. */
  async function server(label: string, args: string[], port: number): Promise<ChildProcess> {
    const logfile = path.join(dir, `${label}.log`);
    const child = spawn("redis-server", [...args, "--logfile", logfile], { cwd: dir, stdio: "ignore" });
    children.push(child);
    running.add(child);
    try {
      await waitForPing(port, child);
      return child;
    } catch (err) {
      let log = "";
      try {
        log = readFileSync(logfile, "utf8").slice(-2_000);
      } catch {}
      throw new Error(`${label} did not start: ${err instanceof Error ? err.message : String(err)}\n${log}`);
    }
  }

  /** Runs `start`; on failure stops whatever it had started before rethrowing. */
  async function starting<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (err) {
      await stop();
      throw err;
    }
  }

  return { dir, server, stop, starting };
}

const serverArgs = (port: number, dir: string): string[] => [
  "--port",
  String(port),
  "--bind",
  "127.0.0.1",
  "--save",
  "",
  "--appendonly",
  "no",
  "--dir",
  dir,
];

function client(port: number): Redis {
  return new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
}

/** Runs one command against a node on a short-lived connection. */
async function ask(port: number, command: string, ...args: string[]): Promise<unknown> {
  const redis = client(port);
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return await redis.call(command, ...args);
  } finally {
    redis.disconnect();
  }
}

/** Polls until `check` holds, at most `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitForPing(port: number, child: ChildProcess): Promise<void> {
  await until(`PING on port ${port}`, async () => {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    return (await ask(port, "PING")) === "PONG";
  });
}

/** One `redis-server`; `extraArgs` are appended to its command line (e.g. `--maxmemory-policy allkeys-lru`). */
export async function startStandalone(extraArgs: string[] = []): Promise<StandaloneRedis> {
  const group = newGroup("standalone");
  return group.starting(async () => {
    const port = await freePort();
    const args = [...serverArgs(port, group.dir), ...extraArgs];
    let child = await group.server("standalone", args, port);
    return {
      url: `redis://127.0.0.1:${port}/0`,
      port,
      stop: group.stop,
      stall: () => child.kill("SIGSTOP"),
      resume: () => child.kill("SIGCONT"),
      async crash(afterMs) {
        child.kill("SIGKILL");
        await new Promise((resolve) => setTimeout(resolve, afterMs));
        child = await group.server("standalone", args, port);
      },
    };
  });
}

/** A Redis Cluster of `masters` masters and no replicas, its slots spread by `redis-cli --cluster create`. */
export async function startCluster(masters = 3): Promise<ClusterRedis> {
  const group = newGroup("cluster");
  return group.starting(async () => {
    const nodes: NodeAddress[] = [];
    for (let i = 0; i < masters; i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      const args = [
        ...serverArgs(port, group.dir),
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `nodes-${port}.conf`,
        "--cluster-port",
        String(busPort),
        "--cluster-node-timeout",
        "2000",
      ];
      await group.server(`node-${port}`, args, port);
      nodes.push({ host: "127.0.0.1", port });
    }
    const addresses = nodes.map((node) => `${node.host}:${node.port}`);
    await promisify(execFile)(
      "redis-cli",
      ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: 20_000 },
    );
    for (const node of nodes) {
      await until(`cluster_state:ok on ${node.port}`, async () =>
        String(await ask(node.port, "CLUSTER", "INFO")).includes("cluster_state:ok"),
      );
    }
    return { nodes, stop: group.stop };
  });
}

const MASTER_NAME = "credbroker-test";

/** A master, one replica and one Sentinel (quorum 1) monitoring them. */
export async function startSentinel(): Promise<SentinelRedis> {
  const group = newGroup("sentinel");
  return group.starting(async () => {
    const [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
    await group.server("master", serverArgs(masterPort, group.dir), masterPort);
    await group.server(
      "replica",
      [...serverArgs(replicaPort, group.dir), "--replicaof", "127.0.0.1", String(masterPort)],
      replicaPort,
    );
    await until("the replica to sync", async () =>
      String(await ask(replicaPort, "INFO", "replication")).includes("master_link_status:up"),
    );
    const conf = path.join(group.dir, "sentinel.conf");
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        "bind 127.0.0.1",
        `dir ${group.dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 2000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        "",
      ].join("\n"),
    );
    await group.server("sentinel", [conf, "--sentinel"], sentinelPort);
    const masterPortNow = async (): Promise<number> => {
      const reply = await ask(sentinelPort, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
      return Array.isArray(reply) ? Number(reply[1]) : 0;
    };
    await until("the Sentinel to see the replica", async () => {
      const replicas = await ask(sentinelPort, "SENTINEL", "REPLICAS", MASTER_NAME);
      return JSON.stringify(replicas).includes(`"master-link-status","ok"`);
    });
    return {
      sentinel: { sentinels: [{ host: "127.0.0.1", port: sentinelPort }], name: MASTER_NAME },
      masterPort: masterPortNow,
      async failover() {
        const before = await masterPortNow();
        await ask(sentinelPort, "SENTINEL", "FAILOVER", MASTER_NAME);
        await until(
          "the Sentinel to name a new master",
          async () => (await masterPortNow()) !== before,
          15_000,
        );
        return masterPortNow();
      },
      holds: async (port, key) => Number(await ask(port, "EXISTS", key)) === 1,
      stop: group.stop,
    };
  });
}
