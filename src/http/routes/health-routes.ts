import { Router } from "express";
import type { Registry } from "prom-client";

export interface ReadinessProbe {
  /** Resolves when Redis and the queue answer and policies are loaded; rejects with the reason otherwise. */
  check(): Promise<void>;
}

/** `/healthz`, `/readyz`, `/metrics`: unauthenticated, and revealing no secrets or identities. */
export function healthRoutes(deps: { readiness: ReadinessProbe; registry: Registry }): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    try {
      await deps.readiness.check();
      res.json({ status: "ready" });
    } catch (err) {
      res.status(503).json({ status: "not_ready", reason: err instanceof Error ? err.message : "unknown" });
    }
  });
  router.get("/metrics", async (_req, res) => {
    res.setHeader("Content-Type", deps.registry.contentType);
    res.send(await deps.registry.metrics());
  });
  return router;
}
