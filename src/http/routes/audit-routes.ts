import { Router } from "express";
import type { AuditLog } from "../../audit/audit-log.js";
import { policyPrincipal } from "../../policy/policy-context.js";
import type { Clock } from "../../shared/clock.js";
import { type Decide, requireAllowed } from "../../tasks/task-access.js";
import { principalOf } from "../principal-of.js";
import { auditQuery } from "../schemas.js";
import { parseInput } from "../validate.js";

/** `GET /v1/audit`: audit events, paged; policy action `ReadAudit`. */
export function auditRoutes(deps: { audit: AuditLog; decide: Decide; clock: Clock }): Router {
  const router = Router();
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
