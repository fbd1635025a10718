import { type Request, Router } from "express";
import { z } from "zod";
import type { Principal } from "../../auth/principal.js";
import { createEvidenceBuilder, type EvidenceBuilderDeps } from "../../evidence/evidence-builder.js";
import { renderEvidenceHtml } from "../../evidence/evidence-html.js";
import { type Decide, policyDenied } from "../../policy/decider.js";
import { epochSeconds, policyPrincipal, taskInfo, taskResource } from "../../policy/policy-context.js";
import { notFound } from "../../shared/errors.js";
import type { TaskStore } from "../../tasks/task-store.js";
import type { Task } from "../../tasks/task-types.js";
import { principalOf } from "../principal-of.js";
import { parseInput } from "../validate.js";

/** `?at=` must be an RFC 3339 date-time with an offset (`Z` or `±hh:mm`). */
const evidenceQuery = z.object({ at: z.iso.datetime({ offset: true }).optional() }).strict();

/** The page may show nothing but itself: no scripts, no fetches, no frames, no forms. */
const HTML_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** What the report is built from (see `createEvidenceBuilder`), plus the policy decider. */
export interface EvidenceRouteDeps extends EvidenceBuilderDeps {
  tasks: EvidenceBuilderDeps["tasks"] & Pick<TaskStore, "get">;
  decide: Decide;
}

/**
 * `GET /v1/tasks/{id}/evidence[?at=]`: the task's evidence report, JSON or (`Accept: text/html`) one
 * self-contained page. Visible to the task's relations (owners and agents of it and its ancestors) when the
 * policy allows them `ReadTask`, and to principals the policy allows `ReadAudit` on the task; anyone else
 * gets 404, as for every task route.
 */
export function evidenceRoutes(deps: EvidenceRouteDeps): Router {
  const router = Router();
  const evidence = createEvidenceBuilder(deps);

  /** Related principals read under `ReadTask`; others only under `ReadAudit` on the task. */
  async function authorize(principal: Principal, task: Task): Promise<void> {
    const now = deps.clock.now();
    const related = task.related.includes(principal.id);
    const who = policyPrincipal(principal);
    const resource = taskResource(task);
    const read = related
      ? await deps.decide(
          {
            action: "ReadTask",
            principal: who,
            resource,
            context: { task: taskInfo(task, now), now: epochSeconds(now) },
          },
          { taskId: task.id },
        )
      : null;
    if (read?.effect === "allow") return;
    const audit = await deps.decide(
      { action: "ReadAudit", principal: who, resource, context: { now: epochSeconds(now) } },
      { taskId: task.id },
    );
    if (audit.effect === "allow") return;
    if (read) throw policyDenied("ReadTask", read);
    throw notFound("Task");
  }

  const wantsHtml = (req: Request): boolean => req.accepts(["application/json", "text/html"]) === "text/html";

  router.get("/:taskId/evidence", async (req, res) => {
    const query = parseInput(evidenceQuery, req.query, "query");
    const task = await deps.tasks.get(req.params.taskId);
    if (!task) throw notFound("Task");
    await authorize(principalOf(req), task);
    const report = await evidence.build(task, query.at === undefined ? {} : { at: Date.parse(query.at) });
    res.setHeader("Cache-Control", "no-store");
    res.vary("Accept");
    if (wantsHtml(req)) {
      res.setHeader("Content-Security-Policy", HTML_CSP);
      res.type("html").send(renderEvidenceHtml(report));
      return;
    }
    res.json(report);
  });

  return router;
}
