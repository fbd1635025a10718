import type { AuditLog } from "../audit/audit-log.js";
import type { AuditEvent } from "../audit/audit-types.js";
import type { CredentialStore } from "../credentials/credential-store.js";
import type { Credential, CredentialState } from "../credentials/credential-types.js";
import type { Clock } from "../shared/clock.js";
import { toIso } from "../shared/clock.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";
import { assessControls } from "./controls.js";
import { accessesOf, separateReads } from "./evidence-access.js";
import { type ChainSources, chainEvidence } from "./evidence-chain.js";
import { credentialEnding, taskEnding } from "./evidence-endings.js";
import { approvalsOf, decisionsOf, timelineOf } from "./evidence-events.js";
import { loadEvidenceTree } from "./evidence-tree.js";
import type {
  CredentialEntry,
  EvidenceReport,
  EvidenceSummary,
  RevocationOutcome,
  TaskEntry,
  TaskRelation,
} from "./evidence-types.js";
import { validAt, validityOf } from "./valid-at.js";

/** Builds evidence reports; the caller has already decided the principal may see `subject`. */
export interface EvidenceBuilder {
  /** The report of `subject` and its descendants; `at` (epoch ms) adds the `valid_at` answer. */
  build(subject: Task, options?: { at?: number }): Promise<EvidenceReport>;
}

export interface EvidenceBuilderDeps {
  tasks: Pick<TaskStore, "get" | "getMany" | "children">;
  credentials: Pick<CredentialStore, "listForTask">;
  audit: Pick<AuditLog, "forTask" | "all" | "head">;
  checkpoints: ChainSources["checkpoints"];
  clock: Clock;
  /** Most tasks one report covers (the subject and its descendants); default 1000. */
  maxTasks?: number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : toIso(ms));

const SETTLING_EVENTS = new Set([
  "credential.revoked",
  "credential.expired",
  "credential.revoke_failed",
  "credential.resolved",
]);

function taskEntry(
  task: Task,
  relation: TaskRelation,
  children: string[],
  events: readonly AuditEvent[],
): TaskEntry {
  return {
    task_id: task.id,
    relation,
    parent_task_id: task.parentId,
    depth: task.depth,
    intent: task.intent,
    initiator: { ...task.initiator },
    owner: task.owner,
    agent: task.agent,
    act_chain: task.actChain,
    state: task.state,
    created_at: toIso(task.createdAt),
    deadline: toIso(task.deadline),
    closing_at: iso(task.closingAt),
    closed_at: iso(task.closedAt),
    close_reason: task.closeReason,
    labels: task.labels,
    children,
    ending: taskEnding(task, events),
  };
}

function revocationOutcome(state: CredentialState, lapsed: boolean): RevocationOutcome {
  switch (state) {
    case "pending":
    case "failed":
      return "not_issued";
    case "active":
      return lapsed ? "expired" : "live";
    default:
      return state;
  }
}

function credentialEntry(
  credential: Credential,
  events: readonly AuditEvent[],
  approvalId: string | null,
  now: number,
  ending: TaskEntry["ending"],
): CredentialEntry {
  const lapsed =
    credential.state === "active" && credential.expiresAt !== null && credential.expiresAt <= now;
  const own = events.filter((event) => event.credential_id === credential.id);
  const settling = own.filter((event) => SETTLING_EVENTS.has(event.type)).at(-1);
  const validity = validityOf(credential);
  return {
    credential_id: credential.id,
    task_id: credential.taskId,
    agent: credential.agent,
    profile: credential.profile,
    provider: credential.provider,
    scopes: credential.scopes,
    ttl_seconds: credential.ttlSeconds,
    request_reason: credential.reason,
    downstream_account: credential.downstreamAccount,
    state: lapsed ? "expired" : credential.state,
    created_at: toIso(credential.createdAt),
    issued_at: iso(credential.issuedAt),
    expires_at: iso(credential.expiresAt),
    revoked_at: iso(credential.revokedAt),
    valid_until: validity ? toIso(validity.until) : null,
    policy_ids: credential.policyIds,
    policy_set_hash: credential.policySetHash,
    approval_id: approvalId,
    revocation: {
      outcome: revocationOutcome(credential.state, lapsed),
      reason: credential.revokeReason,
      attempts: credential.revokeAttempts,
      last_error: credential.lastError,
      event_seq: settling?.seq ?? null,
      failure_kind: credential.failureKind,
      resolved: credential.resolution
        ? { ...credential.resolution, at: toIso(credential.resolution.at) }
        : null,
      ...credentialEnding(credential, own, ending),
    },
    event_seqs: own.map((event) => event.seq),
  };
}

/** Every event of the given tasks, once each, in chain order. */
async function eventsOf(audit: Pick<AuditLog, "forTask">, taskIds: string[]): Promise<AuditEvent[]> {
  const lists = await Promise.all(taskIds.map((id) => audit.forTask(id)));
  const bySeq = new Map<number, AuditEvent>();
  for (const event of lists.flat()) bySeq.set(event.seq, event);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function summaryOf(
  report: Pick<EvidenceReport, "tasks" | "decisions" | "credentials" | "approvals" | "timeline">,
  truncated: boolean,
): EvidenceSummary {
  const subject = report.tasks.find((task) => task.relation === "subject");
  const decisions = { allow: 0, deny: 0, approval_required: 0 };
  for (const decision of report.decisions) decisions[decision.effect]++;
  const credentials: EvidenceSummary["credentials"] = {};
  for (const credential of report.credentials) {
    credentials[credential.state] = (credentials[credential.state] ?? 0) + 1;
  }
  return {
    initiator: subject ? { ...subject.initiator } : { subject: "unknown", verified: false },
    agent_chain: subject ? [...subject.act_chain, subject.agent] : [],
    tasks: report.tasks.length,
    truncated,
    decisions,
    credentials,
    approvals: report.approvals.length,
    events: report.timeline.length,
  };
}

/** Creates the builder behind `GET /v1/tasks/{id}/evidence` (and the CLI's `evidence` command). */
export function createEvidenceBuilder(deps: EvidenceBuilderDeps): EvidenceBuilder {
  const maxTasks = deps.maxTasks ?? 1000;

  async function build(subject: Task, options: { at?: number } = {}): Promise<EvidenceReport> {
    const now = deps.clock.now();
    const tree = await loadEvidenceTree(deps.tasks, subject, maxTasks);
    const covered = [tree.subject, ...tree.descendants];
    const coveredIds = covered.map((task) => task.id);
    const [allEvents, credentialLists] = await Promise.all([
      eventsOf(deps.audit, coveredIds),
      Promise.all(coveredIds.map((id) => deps.credentials.listForTask(id))),
    ]);
    const { own: events, reads } = separateReads(allEvents);
    const credentials = credentialLists.flat().sort((a, b) => a.createdAt - b.createdAt);
    const chain = await chainEvidence({ audit: deps.audit, checkpoints: deps.checkpoints }, events);

    const childrenOf = (task: Task) => tree.children.get(task.id) ?? [];
    const tasks: TaskEntry[] = [
      ...tree.ancestors.map((task) => taskEntry(task, "ancestor", [], [])),
      taskEntry(tree.subject, "subject", childrenOf(tree.subject), events),
      ...tree.descendants.map((task) => taskEntry(task, "descendant", childrenOf(task), events)),
    ];
    const endingOf = new Map(tasks.map((task) => [task.task_id, task.ending]));
    const approvals = approvalsOf(events);
    const approvalOf = new Map(approvals.map((a) => [a.credential_id, a.approval_id]));
    const parts = {
      tasks,
      decisions: decisionsOf(events),
      approvals,
      credentials: credentials.map((c) =>
        credentialEntry(c, events, approvalOf.get(c.id) ?? null, now, endingOf.get(c.taskId) ?? null),
      ),
      timeline: timelineOf(events),
      chain,
    };
    return {
      report: {
        kind: "credbroker.evidence",
        version: 1,
        generated_at: toIso(now),
        subject_task_id: subject.id,
        root_task_id: subject.rootId,
        at: options.at === undefined ? null : toIso(options.at),
      },
      summary: summaryOf(parts, tree.truncated),
      ...parts,
      accessed_by: accessesOf(reads),
      valid_at: options.at === undefined ? null : validAt(credentials, options.at),
      controls: assessControls(parts),
    };
  }

  return { build };
}
