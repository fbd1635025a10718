import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import type { Registry } from "prom-client";
import type { Readiness } from "../health/readiness.js";
import { healthRoutes } from "./routes/health-routes.js";

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
}): Promise<HealthServer> {
  const app = express();
  app.disable("x-powered-by");
  app.use(healthRoutes({ readiness: deps.readiness, registry: deps.registry }));
  app.use((_req, res) => {
    res.status(404).json({
      error: { code: "not_found", message: "The worker serves only /healthz, /readyz and /metrics." },
    });
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const started = app.listen(deps.port, deps.host, (err?: Error) => (err ? reject(err) : resolve(started)));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
