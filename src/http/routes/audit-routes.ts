import { Router } from "express";
import type { AuditService } from "../../audit/audit-service.js";
import { principalOf } from "../principal-of.js";
import { auditQuery } from "../schemas.js";
import { parseInput } from "../validate.js";

/** `/v1/audit`: parse → the audit service (which decides `ReadAudit`) → JSON. */
export function auditRoutes(deps: { auditService: AuditService }): Router {
  const router = Router();
  const service = deps.auditService;
  router.get("/verify", async (req, res) => {
    res.json(await service.verify(principalOf(req)));
  });
  router.get("/checkpoints", async (req, res) => {
    res.json(await service.checkpoints(principalOf(req)));
  });
  router.get("/", async (req, res) => {
    res.json(await service.list(principalOf(req), parseInput(auditQuery, req.query, "query")));
  });
  return router;
}
