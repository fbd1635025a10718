import { createConnection, createServer, type Server, type Socket } from "node:net";
import { createRespCounter } from "./resp-counter.js";

/**
 * A counting TCP proxy (bench only) between one api process and Redis. It forwards bytes unchanged and counts,
 * over all connections the process opens:
 * - `writes`: data chunks from the client (each is at least one socket write of the client; writes that
 *   reach the proxy back to back may arrive as one chunk, so under concurrency this is a lower bound);
 * - `commands`: commands in the client's byte stream (parsed RESP; each command of a pipeline counts);
 * - `responses`: data chunks from Redis;
 * - `roundTrips`: client chunks that start a new exchange on their connection, i.e. the first chunk after
 *   Redis answered something (or the connection's first). With one request in flight at a time, this is the
 *   number of sequential waits on Redis the request made.
 */
export interface ProxyCounts {
  commands: number;
  writes: number;
  responses: number;
  roundTrips: number;
  clientBytes: number;
  serverBytes: number;
  connections: number;
}

export interface RedisProxy {
  url: string;
  counts(): ProxyCounts;
  close(): Promise<void>;
}

const zero = (): ProxyCounts => ({
  commands: 0,
  writes: 0,
  responses: 0,
  roundTrips: 0,
  clientBytes: 0,
  serverBytes: 0,
  connections: 0,
});

export async function startRedisProxy(upstream: { host: string; port: number }): Promise<RedisProxy> {
  const counts = zero();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    counts.connections += 1;
    client.setNoDelay(true);
    const redis = createConnection(upstream);
    redis.setNoDelay(true);
    sockets.add(client).add(redis);
    /** true once Redis has answered since the client's last chunk. */
    let answered = true;
    const resp = createRespCounter();
    client.on("data", (chunk) => {
      const seen = resp.commands();
      resp.feed(chunk);
      counts.commands += resp.commands() - seen;
      counts.writes += 1;
      counts.clientBytes += chunk.length;
      if (answered) counts.roundTrips += 1;
      answered = false;
      redis.write(chunk);
    });
    redis.on("data", (chunk) => {
      counts.responses += 1;
      counts.serverBytes += chunk.length;
      answered = true;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      redis.destroy();
      sockets.delete(client);
      sockets.delete(redis);
    };
    for (const socket of [client, redis]) {
      socket.on("error", end);
      socket.on("close", end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function diffCounts(before: ProxyCounts, after: ProxyCounts): ProxyCounts {
  return {
    commands: after.commands - before.commands,
    writes: after.writes - before.writes,
    responses: after.responses - before.responses,
    roundTrips: after.roundTrips - before.roundTrips,
    clientBytes: after.clientBytes - before.clientBytes,
    serverBytes: after.serverBytes - before.serverBytes,
    connections: after.connections - before.connections,
  };
}
