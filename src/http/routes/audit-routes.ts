import { type Request, Router } from "express";
import type { AuditCheckpoints } from "../../audit/audit-checkpoints.js";
import type { AuditLog } from "../../audit/audit-log.js";
import { verifyChain } from "../../audit/audit-verify.js";
import { type Decide, requireAllowed } from "../../policy/decider.js";
import { policyPrincipal } from "../../policy/policy-context.js";
import type { Clock } from "../../shared/clock.js";
import { principalOf } from "../principal-of.js";
import { auditQuery } from "../schemas.js";
import { parseInput } from "../validate.js";

/** `/v1/audit`: events (paged), chain verification and checkpoints; policy action `ReadAudit`. */
export function auditRoutes(deps: {
  audit: AuditLog;
  checkpoints: AuditCheckpoints;
  decide: Decide;
  clock: Clock;
}): Router {
  const router = Router();
  const allowRead = (req: Request) =>
    requireAllowed(
      deps.decide,
      {
        action: "ReadAudit",
        principal: policyPrincipal(principalOf(req)),
        resource: { type: "Broker" },
        context: { now: Math.floor(deps.clock.now() / 1000) },
      },
      null,
    );

  /** `GET /v1/audit/verify`: walks the whole chain and its signed checkpoints. */
  router.get("/verify", async (req, res) => {
    await allowRead(req);
    // Checkpoints first, then the head: events appended while the chain is walked are left out.
    const anchor = await deps.checkpoints.anchor();
    const checkpoints = await deps.checkpoints.list();
    const head = await deps.audit.head();
    const result = await verifyChain({
      events: deps.audit.all(),
      anchor,
      checkpoints,
      head,
      checkSignature: deps.checkpoints.checkSignature,
    });
    res.json(result);
  });

  /** `GET /v1/audit/checkpoints`: the anchor and every signed checkpoint, for export and offline checks. */
  router.get("/checkpoints", async (req, res) => {
    await allowRead(req);
    res.json({ anchor: await deps.checkpoints.anchor(), checkpoints: await deps.checkpoints.list() });
  });

  router.get("/", async (req, res) => {
    const query = parseInput(auditQuery, req.query, "query");
    await requireAllowed(
      deps.decide,
      {
        action: "ReadAudit",
        principal: policyPrincipal(principalOf(req)),
        resource: { type: "Broker" },
        context: { now: Math.floor(deps.clock.now() / 1000) },
      },
      query.task_id ?? null,
    );
    res.json(
      await deps.audit.list({
        taskId: query.task_id,
        since: query.since,
        limit: query.limit,
        cursor: query.cursor,
      }),
    );
  });
  return router;
}
