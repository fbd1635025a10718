import type { CredentialProvider } from "../../providers/provider.js";
import type { ProviderRegistry } from "../../providers/registry.js";
import type { Principal } from "../auth/principal.js";
import { type Decide, policyDenied } from "../policy/decider.js";
import { epochSeconds, policyPrincipal, taskInfo } from "../policy/policy-context.js";
import type { Decision } from "../policy/policy-types.js";
import type { Quotas } from "../quotas/quotas.js";
import type { Clock } from "../shared/clock.js";
import { BrokerError } from "../shared/errors.js";
import { requireRelated } from "../tasks/task-access.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";
import type { CredentialRequest, IssueCredential, IssuedResult } from "./credential-issuer.js";

export type { CredentialRequest, IssuedResult } from "./credential-issuer.js";

/**
 * A request the policy answered `approval_required` for: nothing was issued. The caller opens the approval
 * (approvals depend on credentials, never the other way round).
 */
export interface HeldForApproval {
  principal: Principal;
  task: Task;
  provider: CredentialProvider;
  request: CredentialRequest;
  decision: Decision;
}

export type RequestOutcome =
  | { kind: "issued"; issued: IssuedResult }
  | { kind: "held_for_approval"; held: HeldForApproval };

export interface CredentialServiceDeps {
  tasks: Pick<TaskStore, "get">;
  providers: ProviderRegistry;
  decide: Decide;
  issue: IssueCredential;
  quotas: Pick<Quotas, "credentialsUsed" | "issueCredential">;
  clock: Clock;
}

export function createCredentialService(deps: CredentialServiceDeps) {
  const { clock } = deps;

  async function loadTask(principal: Principal, taskId: string): Promise<Task> {
    const task = requireRelated(await deps.tasks.get(taskId), principal);
    if (task.agent !== principal.id) {
      throw new BrokerError("policy_denied", "Only the task's agent may request credentials under it.", {
        details: { policies: [], rule: "credentials_require_agent" },
      });
    }
    // Under a second left is too little for any credential: the smallest TTL is one second.
    if (task.state !== "open" || task.deadline - clock.now() < 1000) {
      throw new BrokerError(
        "task_not_open",
        `The task is ${task.state === "open" ? "past its deadline" : task.state}.`,
      );
    }
    return task;
  }

  function resolveProvider(task: Task, request: CredentialRequest): CredentialProvider {
    const provider = deps.providers.forProfile(request.profile);
    if (!provider) {
      throw new BrokerError("unknown_profile", `Unknown profile: ${request.profile}.`, {
        details: { profile: request.profile },
      });
    }
    if (task.profiles && !task.profiles.includes(request.profile)) {
      throw new BrokerError("scope_not_allowed", `The task does not allow profile ${request.profile}.`, {
        details: { profile: request.profile, allowed: task.profiles },
      });
    }
    const allowed = provider.allowedScopes(request.profile);
    const extra = (request.scopes ?? []).filter((scope) => !allowed.includes(scope));
    if (extra.length > 0) {
      throw new BrokerError(
        "scope_not_allowed",
        `Scopes not allowed for profile ${request.profile}: ${extra.join(" ")}.`,
        {
          details: { scopes: extra, allowed },
        },
      );
    }
    return provider;
  }

  async function decideIssue(
    principal: Principal,
    task: Task,
    provider: CredentialProvider,
    request: CredentialRequest,
    approved: boolean,
  ) {
    const now = clock.now();
    return deps.decide(
      {
        action: "RequestCredential",
        principal: policyPrincipal(principal),
        resource: { type: "Profile", id: request.profile, provider: provider.kind },
        context: {
          task: taskInfo(task, now),
          profile: request.profile,
          provider: provider.kind,
          ttl_seconds: request.ttlSeconds ?? provider.ttlBounds(request.profile).max,
          scopes: request.scopes ?? [],
          reason: request.reason ?? "",
          approved,
          now: epochSeconds(now),
        },
      },
      { taskId: task.id },
    );
  }

  /** Issues now, or reports the request held for a human when only approval policies stand in the way. */
  async function request(
    principal: Principal,
    taskId: string,
    input: CredentialRequest,
  ): Promise<RequestOutcome> {
    // One round trip for both reads; the count is enforced only once the policy has answered (a denied
    // request is told it is denied, not that the task is full).
    const [task, used] = await Promise.all([
      loadTask(principal, taskId),
      deps.quotas.credentialsUsed(taskId),
    ]);
    const provider = resolveProvider(task, input);
    const decision = await decideIssue(principal, task, provider, input, false);
    if (decision.effect === "approval_required") {
      return { kind: "held_for_approval", held: { principal, task, provider, request: input, decision } };
    }
    if (decision.effect !== "allow") throw policyDenied("RequestCredential", decision, principal.id);
    deps.quotas.issueCredential(used);
    return { kind: "issued", issued: await deps.issue(principal, task, provider, input, decision) };
  }

  /** Issues an approved request once: the policy is asked again with `context.approved = true`. */
  async function redeem(
    principal: Principal,
    taskId: string,
    input: CredentialRequest,
  ): Promise<IssuedResult> {
    const task = await loadTask(principal, taskId);
    const provider = resolveProvider(task, input);
    const decision = await decideIssue(principal, task, provider, input, true);
    if (decision.effect !== "allow") throw policyDenied("RequestCredential", decision, principal.id);
    return deps.issue(principal, task, provider, input, decision);
  }

  return { request, redeem };
}

export type CredentialService = ReturnType<typeof createCredentialService>;
