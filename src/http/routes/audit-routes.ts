import { Router } from "express";
import type { AuditService } from "../../audit/audit-service.js";
import { principalOf } from "../principal-of.js";
import { auditQuery, sealBody } from "../schemas.js";
import { parseInput } from "../validate.js";

/** `/v1/audit`: parse → the audit service (which decides `ReadAudit`, or `RotateKeys` to seal) → JSON. */
export function auditRoutes(deps: { auditService: AuditService }): Router {
  const router = Router();
  const service = deps.auditService;
  router.get("/verify", async (req, res) => {
    res.json(await service.verify(principalOf(req)));
  });
  router.get("/checkpoints", async (req, res) => {
    res.json(await service.checkpoints(principalOf(req)));
  });
  router.post("/checkpoints", async (req, res) => {
    parseInput(sealBody, req.body);
    const sealed = await service.seal(principalOf(req));
    res.status(sealed.created ? 201 : 200).json(sealed);
  });
  router.get("/", async (req, res) => {
    res.json(await service.list(principalOf(req), parseInput(auditQuery, req.query, "query")));
  });
  return router;
}
