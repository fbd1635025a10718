import { Router } from "express";
import type { AdminService } from "../../admin/admin-service.js";
import type { Clock } from "../../shared/clock.js";
import { principalOf } from "../principal-of.js";
import {
  adminCredentialsQuery,
  adminRevocationsQuery,
  adminTasksQuery,
  resolveBody,
  revocationBody,
} from "../schemas.js";
import { parseInput } from "../validate.js";
import { credentialView, taskSummaryView } from "../views.js";

/** `/v1/admin`: parse → the admin service (which decides) → view. */
export function adminRoutes(deps: { admin: AdminService; clock: Clock }): Router {
  const router = Router();
  const { admin } = deps;

  router.post("/revocations", async (req, res) => {
    const body = parseInput(revocationBody, req.body);
    const order = { selector: body.selector, reason: body.reason, dryRun: body.dry_run };
    res.status(202).json(await admin.startRevocation(principalOf(req), order));
  });

  router.get("/revocations", async (req, res) => {
    const query = parseInput(adminRevocationsQuery, req.query, "query");
    const page = await admin.listRevocations(principalOf(req), query);
    res.json({ revocations: page.revocations, next_cursor: page.nextCursor });
  });

  router.get("/revocations/:revocationId", async (req, res) => {
    res.json(await admin.revocationStatus(principalOf(req), req.params.revocationId));
  });

  router.get("/tasks", async (req, res) => {
    const page = await admin.listTasks(principalOf(req), parseInput(adminTasksQuery, req.query, "query"));
    const now = deps.clock.now();
    res.json({
      tasks: page.items.map((item) => taskSummaryView(item, now)),
      next_cursor: page.nextCursor,
    });
  });

  router.get("/credentials", async (req, res) => {
    const query = parseInput(adminCredentialsQuery, req.query, "query");
    const page = await admin.listCredentials(principalOf(req), query);
    const now = deps.clock.now();
    res.json({ credentials: page.items.map((c) => credentialView(c, now)), next_cursor: page.nextCursor });
  });

  router.post("/credentials/:credentialId/retry", async (req, res) => {
    const credential = await admin.retry(principalOf(req), req.params.credentialId);
    res.status(202).json(credentialView(credential, deps.clock.now()));
  });

  router.post("/credentials/:credentialId/resolve", async (req, res) => {
    const body = parseInput(resolveBody, req.body);
    const credential = await admin.resolve(principalOf(req), req.params.credentialId, body.reason);
    res.json(credentialView(credential, deps.clock.now()));
  });

  router.post("/keys/rotate", async (req, res) => {
    res.json(await admin.rotateKeys(principalOf(req)));
  });

  return router;
}
