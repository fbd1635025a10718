import { Router } from "express";
import type { Registry } from "prom-client";
import type { Readiness } from "../../health/readiness.js";

/**
 * `/healthz`, `/readyz`, `/metrics`: unauthenticated, and revealing no secrets or identities. The api role
 * serves them on its port; the worker role on `server.worker_port`.
 */
export function healthRoutes(deps: { readiness: Readiness; registry: Registry }): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const { ready, checks } = await deps.readiness.check();
    if (ready) {
      res.json({ status: "ready", checks });
      return;
    }
    const reason = Object.entries(checks)
      .filter(([, state]) => state !== "ok")
      .map(([name, state]) => `${name}: ${state}`)
      .join("; ");
    res.status(503).json({ status: "not_ready", reason, checks });
  });
  router.get("/metrics", async (_req, res) => {
    res.setHeader("Content-Type", deps.registry.contentType);
    res.send(await deps.registry.metrics());
  });
  return router;
}
