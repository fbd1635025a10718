import { Router } from "express";
import type { AuditService } from "../../audit/audit-service.js";
import { principalOf } from "../principal-of.js";
import { auditQuery, auditVerifyQuery, sealBody, verificationBody } from "../schemas.js";
import { parseInput } from "../validate.js";

/**
 * `/v1/audit`: parse → the audit service (which decides `ReadAudit`, or `RotateKeys` to seal) → JSON. The
 * answers are the service's own plain objects (events, verification results and runs), so no view maps them.
 */
export function auditRoutes(deps: { auditService: AuditService }): Router {
  const router = Router();
  const service = deps.auditService;
  router.get("/verify", async (req, res) => {
    const query = parseInput(auditVerifyQuery, req.query, "query");
    res.json(await service.verify(principalOf(req), query.scope));
  });
  router.post("/verifications", async (req, res) => {
    parseInput(verificationBody, req.body ?? {});
    res.status(202).json(await service.startFull(principalOf(req)));
  });
  router.get("/verifications/:verificationId", async (req, res) => {
    res.json(await service.verification(principalOf(req), req.params.verificationId));
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
