import express from "express";
import type { Registry } from "prom-client";
import type { Readiness } from "../health/readiness.js";
import { healthRoutes } from "./routes/health-routes.js";
import { boundPort, listenWithTimeouts, type ServerTimeouts } from "./server-timeouts.js";

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The worker role's only listener: `/healthz`, `/readyz` and `/metrics` (revocation counters live in the
 * worker), on `server.host:server.worker_port`. Nothing else is served.
 */
export async function startHealthServer(deps: {
  readiness: Readiness;
  registry: Registry;
  host: string;
  port: number;
  /** The same limits as the api role's listener (`server.*_timeout_ms`). */
  timeouts: ServerTimeouts;
}): Promise<HealthServer> {
  const app = express();
  app.disable("x-powered-by");
  app.use(healthRoutes({ readiness: deps.readiness, registry: deps.registry }));
  app.use((_req, res) => {
    res.status(404).json({
      error: { code: "not_found", message: "The worker serves only /healthz, /readyz and /metrics." },
    });
  });
  const server = await listenWithTimeouts(app, deps.timeouts, deps.port, deps.host);
  return {
    port: boundPort(server),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
