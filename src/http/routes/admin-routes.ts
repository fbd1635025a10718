import type { Request } from "express";
import { Router } from "express";
import type { CredentialStore } from "../../credentials/credential-store.js";
import type { Credential } from "../../credentials/credential-types.js";
import { type Decide, requireAllowed } from "../../policy/decider.js";
import { policyPrincipal } from "../../policy/policy-context.js";
import type { CedarValue, PolicyAction } from "../../policy/policy-types.js";
import type { EmergencyRevocation } from "../../revocation/emergency-revocation.js";
import type { createResolveCredential } from "../../revocation/resolve-credential.js";
import type { createRetryRevocation } from "../../revocation/retry-revocation.js";
import type { Clock } from "../../shared/clock.js";
import { notFound } from "../../shared/errors.js";
import type { TaskStore } from "../../tasks/task-store.js";
import { principalOf } from "../principal-of.js";
import { adminCredentialsQuery, adminTasksQuery, resolveBody, revocationBody } from "../schemas.js";
import { parseInput } from "../validate.js";
import { credentialView, taskView } from "../views.js";

export interface AdminRouteDeps {
  decide: Decide;
  emergency: EmergencyRevocation;
  retryRevocation: ReturnType<typeof createRetryRevocation>;
  resolveCredential: ReturnType<typeof createResolveCredential>;
  rotateKeys: () => Promise<{ kid: string; previous_kid: string | null }>;
  tasks: TaskStore;
  credentials: CredentialStore;
  clock: Clock;
}

/** `/v1/admin`: operators' cross-task powers, each behind its own policy action. */
export function adminRoutes(deps: AdminRouteDeps): Router {
  const router = Router();
  const now = () => Math.floor(deps.clock.now() / 1000);

  const allow = (req: Request, action: PolicyAction, context: Record<string, CedarValue> = {}) =>
    requireAllowed(
      deps.decide,
      {
        action,
        principal: policyPrincipal(principalOf(req)),
        resource: { type: "Broker" },
        context: { ...context, now: now() },
      },
      null,
    );

  router.post("/revocations", async (req, res) => {
    const body = parseInput(revocationBody, req.body);
    const [kind, value] = Object.entries(body.selector)[0] ?? ["all", true];
    await allow(req, "EmergencyRevoke", {
      selector_kind: kind,
      selector_value: String(value),
      reason: body.reason,
      dry_run: body.dry_run,
    });
    const status = await deps.emergency.start(principalOf(req).id, {
      selector: body.selector,
      reason: body.reason,
      dryRun: body.dry_run,
    });
    res.status(202).json(status);
  });

  router.get("/revocations/:revocationId", async (req, res) => {
    await allow(req, "EmergencyRevoke", {
      selector_kind: "status",
      selector_value: req.params.revocationId,
      reason: "",
      dry_run: true,
    });
    const status = await deps.emergency.get(req.params.revocationId);
    if (!status) throw notFound("Revocation");
    res.json(status);
  });

  router.get("/tasks", async (req, res) => {
    const query = parseInput(adminTasksQuery, req.query, "query");
    await allow(req, "ReadAudit");
    const offset = query.cursor ?? 0;
    const ids = (await deps.tasks.page(query.limit, offset)).ids;
    const tasks = (await deps.tasks.getMany(ids)).filter(
      (task) =>
        (!query.state || task.state === query.state) &&
        (!query.agent || task.agent === query.agent) &&
        (!query.initiator || task.initiator.subject === query.initiator),
    );
    const views = await Promise.all(
      tasks.map(async (task) =>
        taskView(
          task,
          await deps.credentials.listForTask(task.id),
          await deps.tasks.children(task.id),
          deps.clock.now(),
        ),
      ),
    );
    res.json({ tasks: views, next_cursor: ids.length === query.limit ? String(offset + ids.length) : null });
  });

  router.get("/credentials", async (req, res) => {
    const query = parseInput(adminCredentialsQuery, req.query, "query");
    await allow(req, "ReadAudit");
    const offset = query.cursor ?? 0;
    const ids =
      query.state === "revoke_failed"
        ? await deps.credentials.failedPage(query.limit, offset)
        : await deps.credentials.page(query.limit, offset);
    const taskIds = await deps.credentials.taskOf(ids);
    const list = await deps.credentials.getMany(
      ids.flatMap((credentialId, i) => (taskIds[i] ? [{ taskId: taskIds[i], credentialId }] : [])),
    );
    const matches = (c: Credential) =>
      (!query.state || c.state === query.state) &&
      (!query.provider || c.provider === query.provider) &&
      (!query.task_id || c.taskId === query.task_id);
    res.json({
      credentials: list.filter(matches).map((c) => credentialView(c, deps.clock.now())),
      next_cursor: ids.length === query.limit ? String(offset + ids.length) : null,
    });
  });

  router.post("/credentials/:credentialId/retry", async (req, res) => {
    await allow(req, "EmergencyRevoke", {
      selector_kind: "credential",
      selector_value: req.params.credentialId,
      reason: "retry",
      dry_run: false,
    });
    const credential = await deps.retryRevocation(principalOf(req).id, req.params.credentialId);
    res.status(202).json(credentialView(credential, deps.clock.now()));
  });

  router.post("/credentials/:credentialId/resolve", async (req, res) => {
    const body = parseInput(resolveBody, req.body);
    await allow(req, "EmergencyRevoke", {
      selector_kind: "credential",
      selector_value: req.params.credentialId,
      reason: body.reason,
      dry_run: false,
    });
    const credential = await deps.resolveCredential(
      principalOf(req).id,
      req.params.credentialId,
      body.reason,
    );
    res.json(credentialView(credential, deps.clock.now()));
  });

  router.post("/keys/rotate", async (req, res) => {
    await allow(req, "RotateKeys");
    res.json(await deps.rotateKeys());
  });

  return router;
}
