import { Router } from "express";
import { z } from "zod";
import type { ListApprovals } from "../../approvals/approval-listing.js";
import type { ApprovalService } from "../../approvals/approval-service.js";
import { principalOf } from "../principal-of.js";
import { parseInput } from "../validate.js";
import { approvalView } from "../views.js";

export const decisionBody = z.object({ comment: z.string().max(2000).optional() }).strict();
export const listQuery = z
  .object({
    state: z.literal("pending").default("pending"),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();

/** `/v1/approvals`: the requester polls (and redeems once); approvers the policy allows decide. */
export function approvalRoutes(deps: { approvals: ApprovalService; listApprovals: ListApprovals }): Router {
  const router = Router();

  router.get("/", async (req, res) => {
    const query = parseInput(listQuery, req.query, "query");
    const page = await deps.listApprovals(principalOf(req), { limit: query.limit, cursor: query.cursor });
    res.json({
      approvals: page.approvals.map((approval) => approvalView(approval, null)),
      next_cursor: page.nextCursor,
    });
  });

  router.get("/:approvalId", async (req, res) => {
    const { approval, issued } = await deps.approvals.view(principalOf(req), req.params.approvalId);
    res.setHeader("Cache-Control", "no-store");
    res.json(approvalView(approval, issued));
  });

  for (const outcome of ["approve", "deny"] as const) {
    router.post(`/:approvalId/${outcome}`, async (req, res) => {
      const body = parseInput(decisionBody, req.body);
      const approval = await deps.approvals[outcome](principalOf(req), req.params.approvalId, body.comment);
      res.json(approvalView(approval, null));
    });
  }
  return router;
}
