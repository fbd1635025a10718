import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { BrokerConfig } from "../config/config-schema.js";

/**
 * The limits every listener of the broker puts on its clients, so slow or idle connections cannot pile up
 * (a client sending its headers a byte at a time, or keeping sockets open without asking anything). Node
 * checks the header and request deadlines every {@link TIMEOUT_CHECK_INTERVAL_MS}, so a connection is cut
 * at most that much after its deadline.
 */
export interface ServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** How often Node looks for connections past their header or request deadline (its default is 30 s). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * Node advertises `Keep-Alive: timeout=<keepAliveTimeout>` but closes an idle connection this much later,
 * so a client reusing it at the last moment is not reset (fixed in Node 20; not configurable there).
 */
export const KEEP_ALIVE_GRACE_MS = 1_000;

/** The timeouts of `server.*_timeout_ms`. */
export function serverTimeoutsOf(server: BrokerConfig["server"]): ServerTimeouts {
  return {
    headersTimeoutMs: server.headers_timeout_ms,
    requestTimeoutMs: server.request_timeout_ms,
    keepAliveTimeoutMs: server.keep_alive_timeout_ms,
  };
}

/** An HTTP server for `handler` with these timeouts, listening on `host:port` once the promise resolves. */
export async function listenWithTimeouts(
  handler: RequestListener,
  timeouts: ServerTimeouts,
  port: number,
  host: string,
): Promise<Server> {
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    handler,
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

/** The port a listening server is bound to. */
export const boundPort = (server: Server): number => (server.address() as AddressInfo).port;
