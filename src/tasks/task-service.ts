import type { AuditLog } from "../audit/audit-log.js";
import type { Principal } from "../auth/principal.js";
import { type Decide, requireAllowed } from "../policy/decider.js";
import { epochSeconds, policyPrincipal, taskInfo, taskResource } from "../policy/policy-context.js";
import type { Quotas } from "../quotas/quotas.js";
import type { RevocationQueue } from "../revocation/revocation-queue.js";
import type { TaskCloser } from "../revocation/task-closer.js";
import type { Clock } from "../shared/clock.js";
import { BrokerError } from "../shared/errors.js";
import { newId } from "../shared/ids.js";
import { requireRelated } from "./task-access.js";
import type { TaskStore } from "./task-store.js";
import type { Initiator, Task } from "./task-types.js";

export interface OpenTaskInput {
  intent: string;
  ttlSeconds: number;
  initiator?: { subject: string; token?: string };
  agent?: string;
  parentTaskId?: string;
  profiles?: string[];
  labels?: Record<string, string>;
}

export interface TaskService {
  open(principal: Principal, input: OpenTaskInput): Promise<Task>;
  get(principal: Principal, taskId: string): Promise<Task>;
  close(principal: Principal, taskId: string, reason: string | undefined): Promise<Task>;
}

export interface TaskServiceDeps {
  tasks: TaskStore;
  closer: TaskCloser;
  queue: Pick<RevocationQueue, "scheduleDeadline">;
  audit: Pick<AuditLog, "append">;
  decide: Decide;
  clock: Clock;
  limits: { maxTaskTtlSeconds: number; maxDelegationDepth: number };
  profileExists: (profile: string) => boolean;
  quotas: Pick<Quotas, "openTask">;
  /** Verifies a user ID token; resolves to its subject (and email when present). */
  verifyInitiator: (token: string) => Promise<{ subject: string; email?: string }>;
}

export function createTaskService(deps: TaskServiceDeps): TaskService {
  const { tasks, clock, limits } = deps;

  async function resolveInitiator(principal: Principal, input: OpenTaskInput): Promise<Initiator> {
    const claimed = input.initiator;
    if (!claimed) return { subject: principal.id, verified: false };
    if (!claimed.token) return { subject: claimed.subject, verified: false };
    const verified = await deps.verifyInitiator(claimed.token).catch((cause: unknown) => {
      throw new BrokerError("invalid_request", "The initiator token could not be verified.", {
        cause,
        details: {
          issues: [{ path: "initiator.token", message: "not a valid ID token from a trusted issuer" }],
        },
      });
    });
    if (verified.subject !== claimed.subject && verified.email !== claimed.subject) {
      throw new BrokerError("invalid_request", "The initiator token belongs to someone else.", {
        details: {
          issues: [{ path: "initiator.subject", message: "does not match the token's sub or email" }],
        },
      });
    }
    return { subject: claimed.subject, verified: true };
  }

  function checkProfiles(profiles: string[] | undefined): void {
    const unknown = (profiles ?? []).filter((profile) => !deps.profileExists(profile));
    if (unknown.length > 0) {
      throw new BrokerError("unknown_profile", `Unknown profile: ${unknown.join(", ")}.`, {
        details: { profiles: unknown },
      });
    }
  }

  async function loadParent(principal: Principal, parentTaskId: string): Promise<Task> {
    const parent = requireRelated(await tasks.get(parentTaskId), principal);
    if (parent.agent !== principal.id) {
      throw new BrokerError("policy_denied", "Only the parent task's agent may delegate from it.", {
        details: { policies: [], rule: "delegation_requires_agent" },
      });
    }
    if (parent.state !== "open" || parent.deadline <= clock.now()) {
      throw new BrokerError("task_not_open", "The parent task is no longer open.");
    }
    if (parent.depth + 1 > limits.maxDelegationDepth) {
      throw new BrokerError(
        "policy_denied",
        `Delegation deeper than ${limits.maxDelegationDepth} levels is not allowed.`,
        {
          details: { policies: [], rule: "max_delegation_depth" },
        },
      );
    }
    return parent;
  }

  function childBounds(parent: Task, input: OpenTaskInput, deadline: number): string[] | null {
    if (deadline > parent.deadline) {
      const remaining = Math.floor((parent.deadline - clock.now()) / 1000);
      throw new BrokerError("ttl_out_of_range", "A child task cannot outlive its parent.", {
        details: { max_ttl_seconds: remaining },
      });
    }
    if (!input.profiles) return parent.profiles;
    const extra = parent.profiles ? input.profiles.filter((p) => !parent.profiles?.includes(p)) : [];
    if (extra.length > 0) {
      throw new BrokerError(
        "scope_not_allowed",
        `A child task cannot have profiles its parent lacks: ${extra.join(", ")}.`,
        {
          details: { profiles: extra, allowed: parent.profiles },
        },
      );
    }
    return input.profiles;
  }

  async function buildTask(principal: Principal, input: OpenTaskInput): Promise<Task> {
    if (input.ttlSeconds > limits.maxTaskTtlSeconds) {
      throw new BrokerError("ttl_out_of_range", `ttl_seconds may be at most ${limits.maxTaskTtlSeconds}.`, {
        details: { max_ttl_seconds: limits.maxTaskTtlSeconds },
      });
    }
    checkProfiles(input.profiles);
    const now = clock.now();
    const deadline = now + input.ttlSeconds * 1000;
    const parent = input.parentTaskId ? await loadParent(principal, input.parentTaskId) : null;
    const profiles = parent ? childBounds(parent, input, deadline) : (input.profiles ?? null);
    const initiator = parent ? parent.initiator : await resolveInitiator(principal, input);
    if (parent && input.initiator && input.initiator.subject !== parent.initiator.subject) {
      throw new BrokerError("invalid_request", "A child task keeps its parent's initiator.", {
        details: { issues: [{ path: "initiator.subject", message: `must be ${parent.initiator.subject}` }] },
      });
    }
    const agent = input.agent ?? principal.id;
    return {
      id: newId("tsk"),
      state: "open",
      owner: principal.id,
      agent,
      initiator,
      intent: input.intent,
      labels: input.labels ?? {},
      parentId: parent?.id ?? null,
      rootId: parent?.rootId ?? "",
      depth: parent ? parent.depth + 1 : 0,
      profiles,
      createdAt: now,
      deadline,
      closingAt: null,
      closedAt: null,
      closeReason: null,
      related: [...new Set([...(parent?.related ?? []), principal.id, agent])],
      actChain: parent ? [...parent.actChain, parent.agent] : [],
    };
  }

  async function open(principal: Principal, input: OpenTaskInput): Promise<Task> {
    const draft = await buildTask(principal, input);
    const task = { ...draft, rootId: draft.rootId || draft.id };
    const action = task.parentId ? "DelegateTask" : "OpenTask";
    const context = { task: taskInfo(task, clock.now()), now: epochSeconds(clock.now()) };
    await requireAllowed(
      deps.decide,
      { action, principal: policyPrincipal(principal), resource: taskResource(task), context },
      task.id,
    );
    await deps.quotas.openTask(principal.id, task.parentId);
    await tasks.create(task);
    try {
      await deps.queue.scheduleDeadline(task.id, task.deadline, clock.now());
      await deps.audit.append({
        type: "task.opened",
        actor: principal.id,
        task_id: task.id,
        details: {
          agent: task.agent,
          parent_task_id: task.parentId,
          deadline: task.deadline,
          depth: task.depth,
        },
      });
    } catch (cause) {
      await deps.closer.closeTree(task.id, "closed", principal.id).catch(() => undefined);
      throw cause;
    }
    return ensureParentStillOpen(task, principal);
  }

  /** A parent closed while its child was being created: the child must not survive it. */
  async function ensureParentStillOpen(task: Task, principal: Principal): Promise<Task> {
    if (!task.parentId) return task;
    const parent = await tasks.get(task.parentId);
    if (parent?.state === "open") return task;
    await deps.closer.closeTree(task.id, "parent_closed", principal.id);
    throw new BrokerError("task_not_open", "The parent task closed while this child was being opened.");
  }

  async function authorizeOn(
    principal: Principal,
    taskId: string,
    action: "ReadTask" | "CloseTask",
  ): Promise<Task> {
    const task = requireRelated(await tasks.get(taskId), principal);
    const now = clock.now();
    await requireAllowed(
      deps.decide,
      {
        action,
        principal: policyPrincipal(principal),
        resource: taskResource(task),
        context: { task: taskInfo(task, now), now: epochSeconds(now) },
      },
      task.id,
      action === "ReadTask" ? "task" : undefined,
    );
    return task;
  }

  return {
    open,
    get: (principal, taskId) => authorizeOn(principal, taskId, "ReadTask"),
    async close(principal, taskId, note) {
      const task = await authorizeOn(principal, taskId, "CloseTask");
      if (task.state === "closed") return task;
      const closed = await deps.closer.closeTree(task.id, "closed", principal.id, note ? { note } : {});
      return closed ?? task;
    },
  };
}
