import { Router } from "express";
import type { BoundCredentialRequest } from "../../oauth/bound-credential-request.js";
import type { TaskTokenService } from "../../oauth/task-token-service.js";
import type { Clock } from "../../shared/clock.js";
import { toIso } from "../../shared/clock.js";
import type { DescribeTask } from "../../tasks/task-details.js";
import type { TaskService } from "../../tasks/task-service.js";
import type { Task } from "../../tasks/task-types.js";
import { principalOf } from "../principal-of.js";
import { closeTaskBody, credentialRequestBody, openTaskBody, taskTokenBody } from "../schemas.js";
import { parseInput } from "../validate.js";
import { issuedView, taskTokenView, taskView } from "../views.js";

export interface TaskRouteDeps {
  taskService: TaskService;
  /** The credential request, DPoP-bound when a proof comes (docs/oauth.md). */
  requestCredential: BoundCredentialRequest;
  /** `server.public_url`, for the `htu` a DPoP proof must name. */
  publicUrl: string;
  describeTask: DescribeTask;
  taskTokens: TaskTokenService;
  clock: Clock;
}

/** `/v1/tasks`: open, read, close, and request credentials (API.md "Tasks" and "Credentials"). */
export function taskRoutes(deps: TaskRouteDeps): Router {
  const router = Router();

  async function view(task: Task) {
    const details = await deps.describeTask(task);
    return taskView(task, details.credentials, details.children, deps.clock.now());
  }

  router.post("/", async (req, res) => {
    const body = parseInput(openTaskBody, req.body);
    const { task, taskToken } = await deps.taskTokens.open(principalOf(req), {
      intent: body.intent,
      ttlSeconds: body.ttl_seconds,
      initiator: body.initiator,
      agent: body.agent,
      parentTaskId: body.parent_task_id,
      profiles: body.profiles,
      labels: body.labels,
    });
    res.setHeader("Cache-Control", "no-store");
    res.status(201).json({ ...(await view(task)), task_token: taskToken.token });
  });

  router.post("/:taskId/task-token", async (req, res) => {
    parseInput(taskTokenBody, req.body);
    const { task, taskToken } = await deps.taskTokens.refresh(principalOf(req), req.params.taskId);
    res.setHeader("Cache-Control", "no-store");
    res.status(201).json(taskTokenView(task, taskToken));
  });

  router.get("/:taskId", async (req, res) => {
    const task = await deps.taskService.get(principalOf(req), req.params.taskId);
    res.json(await view(task));
  });

  router.post("/:taskId/close", async (req, res) => {
    const body = parseInput(closeTaskBody, req.body);
    const task = await deps.taskService.close(principalOf(req), req.params.taskId, body.reason);
    res.status(202).json(await view(task));
  });

  router.post("/:taskId/credentials", async (req, res) => {
    const body = parseInput(credentialRequestBody, req.body);
    const proof = {
      header: req.header("dpop"),
      method: req.method,
      url: `${deps.publicUrl.replace(/\/+$/, "")}${req.originalUrl.split("?")[0]}`,
    };
    const request = {
      profile: body.profile,
      ttlSeconds: body.ttl_seconds,
      scopes: body.scopes,
      reason: body.reason,
    };
    const issued = await deps.requestCredential(principalOf(req), req.params.taskId, request, proof);
    res.setHeader("Cache-Control", "no-store");
    if ("approvalId" in issued) {
      res
        .status(202)
        .json({ approval_id: issued.approvalId, state: "pending", expires_at: toIso(issued.expiresAt) });
      return;
    }
    res.status(201).json(issuedView(issued));
  });

  return router;
}
