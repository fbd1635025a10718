import type { Task } from "../tasks/task-types.js";
import { epochSeconds, taskInfo, taskResource } from "./policy-context.js";
import type { CedarValue, PolicyAction, PolicyPrincipal, PolicyRequest } from "./policy-types.js";

/** What `policy explain` asks about: a principal, an action, and the request's particulars. */
export interface ExplainQuestion {
  principal: PolicyPrincipal;
  action: PolicyAction;
  profile: string;
  provider: string;
  scopes: string[];
  ttlSeconds: number;
  approved: boolean;
  intent: string;
  labels: Record<string, string>;
}

/** A task for the question: opened by the principal for itself, an hour left, with the given labels. */
function sampleTask(q: ExplainQuestion, now: number): Task {
  return {
    id: "tsk_explain",
    state: "open",
    owner: q.principal.id,
    agent: q.principal.id,
    initiator: { subject: q.principal.id, verified: false },
    intent: q.intent,
    labels: q.labels,
    parentId: null,
    rootId: "tsk_explain",
    depth: 0,
    profiles: null,
    createdAt: now,
    deadline: now + 3_600_000,
    closingAt: null,
    closedAt: null,
    closeReason: null,
    related: [q.principal.id],
    actChain: [],
  };
}

/** The policy request the broker would build for this question (the context of each action in the schema). */
export function explainRequest(q: ExplainQuestion, now = Date.now()): PolicyRequest {
  const task = sampleTask(q, now);
  const base = { principal: q.principal, action: q.action };
  const credential: Record<string, CedarValue> = {
    task: taskInfo(task, now),
    profile: q.profile,
    provider: q.provider,
    ttl_seconds: q.ttlSeconds,
    scopes: q.scopes,
    reason: "",
    approved: q.approved,
    now: epochSeconds(now),
  };
  switch (q.action) {
    case "OpenTask":
    case "DelegateTask":
    case "CloseTask":
    case "ReadTask":
      return {
        ...base,
        resource: taskResource(task),
        context: { task: taskInfo(task, now), now: epochSeconds(now) },
      };
    case "RequestCredential":
      return {
        ...base,
        resource: { type: "Profile", id: q.profile, provider: q.provider },
        context: credential,
      };
    case "ReadAudit":
    case "RotateKeys":
      return { ...base, resource: { type: "Broker" }, context: { now: epochSeconds(now) } };
    case "EmergencyRevoke":
      return {
        ...base,
        resource: { type: "Broker" },
        context: {
          selector_kind: "all",
          selector_value: "true",
          reason: "",
          dry_run: true,
          now: epochSeconds(now),
        },
      };
    default:
      throw new Error(`policy explain does not build ${q.action} requests yet; ask about another action`);
  }
}
