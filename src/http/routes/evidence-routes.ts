import { type Request, Router } from "express";
import { z } from "zod";
import { renderEvidenceHtml } from "../../evidence/evidence-html.js";
import type { EvidenceService } from "../../evidence/evidence-service.js";
import { principalOf } from "../principal-of.js";
import { parseInput } from "../validate.js";

/** `?at=` must be an RFC 3339 date-time with an offset (`Z` or `±hh:mm`). */
export const evidenceQuery = z.object({ at: z.iso.datetime({ offset: true }).optional() }).strict();

/** The page may show nothing but itself: no scripts, no fetches, no frames, no forms. */
const HTML_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const wantsHtml = (req: Request): boolean => req.accepts(["application/json", "text/html"]) === "text/html";

/**
 * `GET /v1/tasks/{id}/evidence[?at=]`: the task's evidence report (the service decides who may read it),
 * JSON or (`Accept: text/html`) one self-contained page.
 */
export function evidenceRoutes(deps: { evidence: EvidenceService }): Router {
  const router = Router();
  router.get("/:taskId/evidence", async (req, res) => {
    const query = parseInput(evidenceQuery, req.query, "query");
    const at = query.at === undefined ? undefined : Date.parse(query.at);
    const report = await deps.evidence.report(principalOf(req), req.params.taskId, at);
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
