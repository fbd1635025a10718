import type { EvidenceReport } from "./evidence-types.js";

/** The parts of a report the controls section is assessed from. */
export type ControlInput = Pick<
  EvidenceReport,
  "tasks" | "credentials" | "decisions" | "approvals" | "chain" | "timeline"
>;

/** What the evidence shows, reduced to the facts the control map needs. */
export interface ControlFacts {
  /** The subject task and its descendants. */
  covered: number;
  /** Tasks in the report that a parent task delegated (ancestors included). */
  delegatedTasks: number;
  agentChain: string[];
  initiator: { subject: string; verified: boolean };
  initiatorIsAgent: boolean;
  decisions: number;
  credentialDecisions: number;
  denied: number;
  policySetHashes: string[];
  issued: number;
  issuedWithPolicies: number;
  /** Policy ids that allowed the issued credentials. */
  allowingPolicies: string[];
  /** Agents that received the issued credentials. */
  credentialAgents: string[];
  /** Issued credentials held by an agent other than their task's agent. */
  misbound: string[];
  providers: string[];
  profiles: string[];
  scopes: string[];
  downstreamAccounts: string[];
  longestTtlSeconds: number;
  /** Issued credentials whose expiry lies past their task's deadline. */
  beyondDeadline: string[];
  revoked: number;
  expired: number;
  revokeFailed: string[];
  closedTasks: number;
  /** Credentials still live (not revoked nor lapsed) in a task that is closed. */
  liveInClosed: string[];
  /** Credentials live or still revoking in a task that is closing or closed. */
  unsettledInEnded: string[];
  cascadeClosures: number;
  /** Open descendants of a closing or closed task. */
  orphanedChildren: string[];
  emergencyClosures: number;
  approvals: number;
  decidedApprovals: number;
  chainValid: boolean;
  events: number;
  /** Cited events a signed checkpoint covers. */
  signedEvents: number;
}

const unique = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/** Reduces a report to control facts. */
export function controlFacts(input: ControlInput): ControlFacts {
  const covered = input.tasks.filter((task) => task.relation !== "ancestor");
  const byId = new Map(input.tasks.map((task) => [task.task_id, task]));
  const issued = input.credentials.filter((c) => c.issued_at !== null);
  const subject = input.tasks.find((task) => task.relation === "subject");
  const initiator = subject?.initiator ?? { subject: "unknown", verified: false };
  const agentChain = subject ? [...subject.act_chain, subject.agent] : [];
  const ended = (state: string) => state === "closing" || state === "closed";
  return {
    covered: covered.length,
    delegatedTasks: input.tasks.filter((task) => task.parent_task_id !== null).length,
    agentChain,
    initiator,
    initiatorIsAgent: input.tasks.some((task) => task.agent === initiator.subject),
    decisions: input.decisions.length,
    credentialDecisions: input.decisions.filter((d) => d.action === "RequestCredential").length,
    denied: input.decisions.filter((d) => d.effect === "deny").length,
    policySetHashes: unique(input.decisions.map((d) => d.policy_set_hash)),
    issued: issued.length,
    issuedWithPolicies: issued.filter((c) => c.policy_ids.length > 0).length,
    allowingPolicies: unique(issued.flatMap((c) => c.policy_ids)),
    credentialAgents: unique(issued.map((c) => c.agent)),
    misbound: issued.filter((c) => byId.get(c.task_id)?.agent !== c.agent).map((c) => c.credential_id),
    providers: unique(issued.map((c) => c.provider)),
    profiles: unique(issued.map((c) => c.profile)),
    scopes: unique(issued.flatMap((c) => c.scopes)),
    downstreamAccounts: unique(issued.flatMap((c) => (c.downstream_account ? [c.downstream_account] : []))),
    longestTtlSeconds: Math.max(0, ...issued.map((c) => c.ttl_seconds)),
    beyondDeadline: issued
      .filter((c) => {
        const task = byId.get(c.task_id);
        return (
          task !== undefined && c.expires_at !== null && Date.parse(c.expires_at) > Date.parse(task.deadline)
        );
      })
      .map((c) => c.credential_id),
    revoked: issued.filter((c) => c.revocation.outcome === "revoked").length,
    expired: issued.filter((c) => c.revocation.outcome === "expired").length,
    revokeFailed: issued.filter((c) => c.revocation.outcome === "revoke_failed").map((c) => c.credential_id),
    closedTasks: covered.filter((task) => task.state === "closed").length,
    liveInClosed: issued
      .filter((c) => byId.get(c.task_id)?.state === "closed" && c.revocation.outcome === "live")
      .map((c) => c.credential_id),
    unsettledInEnded: issued
      .filter((c) => {
        const task = byId.get(c.task_id);
        return task !== undefined && ended(task.state) && ["live", "revoking"].includes(c.revocation.outcome);
      })
      .map((c) => c.credential_id),
    cascadeClosures: covered.filter((task) => task.close_reason === "parent_closed").length,
    orphanedChildren: covered
      .filter((task) => {
        const parent = task.parent_task_id ? byId.get(task.parent_task_id) : undefined;
        return task.state === "open" && parent !== undefined && ended(parent.state);
      })
      .map((task) => task.task_id),
    emergencyClosures: covered.filter((task) => task.close_reason === "revoked").length,
    approvals: input.approvals.length,
    decidedApprovals: input.approvals.filter((a) => a.decided !== null).length,
    chainValid: input.chain.cited.valid && input.chain.whole_chain.valid,
    events: input.timeline.length,
    signedEvents: input.chain.checkpoints.covered_events,
  };
}
