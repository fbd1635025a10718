import { evidenceReportSchema, reportShapeProblem } from "../evidence/evidence-schema.js";
import type {
  ApprovalEntry,
  CredentialEntry,
  EvidenceReport,
  TaskEntry,
  ValidCredential,
} from "../evidence/evidence-types.js";
import { type Column, formatFields, formatTable, shortTime } from "./table.js";

/**
 * The terminal summary of an evidence report. The report is parsed with the broker's own schema
 * (`src/evidence/evidence-schema.ts`), so the CLI and the broker cannot disagree on its shape; the full
 * report (timeline, controls) is for `--json` and `--html`.
 */

/** The report, or why its shape is not the one this CLI knows (first differing field). */
export function parseEvidence(value: unknown): { report: EvidenceReport } | { problem: string } {
  const result = evidenceReportSchema.safeParse(value);
  return result.success ? { report: result.data } : { problem: reportShapeProblem(value) ?? "wrong shape" };
}

/** `emergency rev_… by ci:operator: “reason”`, `close by ci:planner: “done”`, `deadline`. */
function endingText(ending: TaskEntry["ending"]): string | null {
  if (!ending) return null;
  const revocation = ending.revocation ? ` ${ending.revocation.revocation_id}` : "";
  const by = ending.by ? ` by ${ending.by}` : "";
  return `${ending.path}${revocation}${by}${ending.note ? `: “${ending.note}”` : ""}`;
}

/** `emergency rev_… (asked by ci:operator)`, `resolved by ci:oncall`, or the provider's confirmation. */
function credentialEndText(revocation: CredentialEntry["revocation"]): string | null {
  const parts = [
    revocation.path,
    revocation.revocation_id,
    revocation.requested?.by ? `asked by ${revocation.requested.by}` : null,
    revocation.settled?.event === "resolved" ? `resolved by ${revocation.settled.by ?? "?"}` : null,
    revocation.confirmation
      ? Object.entries(revocation.confirmation)
          .map(([key, value]) => `${key}=${value}`)
          .join(" ")
      : null,
  ];
  return parts.filter((part) => part !== null).join(" ") || null;
}

const taskColumns: Column<TaskEntry>[] = [
  { header: "task", cell: (t) => `${"  ".repeat(Math.max(0, t.depth))}${t.task_id}` },
  { header: "relation", cell: (t) => t.relation },
  { header: "agent", cell: (t) => t.agent },
  { header: "state", cell: (t) => (t.close_reason ? `${t.state} (${t.close_reason})` : t.state) },
  { header: "ended", cell: (t) => endingText(t.ending), maxWidth: 120 },
  { header: "intent", cell: (t) => t.intent, maxWidth: 40 },
];

const credentialColumns: Column<CredentialEntry>[] = [
  { header: "credential", cell: (c) => c.credential_id },
  { header: "task", cell: (c) => c.task_id },
  { header: "profile", cell: (c) => c.profile },
  { header: "provider", cell: (c) => c.provider },
  { header: "account", cell: (c) => c.downstream_account },
  { header: "issued", cell: (c) => shortTime(c.issued_at) },
  { header: "valid until", cell: (c) => shortTime(c.valid_until) },
  { header: "outcome", cell: (c) => c.revocation.outcome },
  { header: "how", cell: (c) => credentialEndText(c.revocation) },
  { header: "policies", cell: (c) => c.policy_ids.join(",") },
];

const approvalColumns: Column<ApprovalEntry>[] = [
  { header: "approval", cell: (a) => a.approval_id },
  { header: "outcome", cell: (a) => a.outcome },
  { header: "requested by", cell: (a) => a.requested?.by },
  {
    header: "decision",
    cell: (a) => (a.decided ? `${a.decided.outcome} by ${a.decided.by ?? "?"}` : null),
  },
  { header: "at", cell: (a) => shortTime(a.decided?.at) },
  { header: "comment", cell: (a) => a.decided?.comment, maxWidth: 40 },
  { header: "ended", cell: (a) => (a.ended ? `${a.ended.outcome} ${shortTime(a.ended.at)}` : null) },
];

const validColumns: Column<ValidCredential>[] = [
  { header: "credential", cell: (c) => c.credential_id },
  { header: "task", cell: (c) => c.task_id },
  { header: "profile", cell: (c) => c.profile },
  { header: "provider", cell: (c) => c.provider },
  { header: "account", cell: (c) => c.downstream_account, maxWidth: 32 },
  { header: "issued", cell: (c) => shortTime(c.issued_at) },
  { header: "valid until", cell: (c) => shortTime(c.valid_until) },
  { header: "note", cell: (c) => (c.revoke_failed ? "revocation failed: valid until expiry" : null) },
];

/** Only the valid-at answer (`evidence --at`). */
export function formatValidAt(report: EvidenceReport): string {
  const answer = report.valid_at;
  if (!answer) return "the report has no valid-at answer";
  const lines = [
    answer.credentials.length > 0
      ? `credentials valid at ${answer.at}:\n${formatTable(validColumns, answer.credentials)}`
      : `no credential of this task tree was valid at ${answer.at}`,
  ];
  for (const maybe of answer.possibly_valid)
    lines.push(
      `possibly valid: ${maybe.credential_id} (issuance outcome unknown; at most until ${maybe.possibly_until})`,
    );
  lines.push(`rule: ${answer.rule}`);
  return lines.join("\n");
}

/** Which cited events a signed checkpoint covers, and what to do about the others. */
function sealedLine(coverage: EvidenceReport["chain"]["checkpoints"]): string {
  if (coverage.uncovered_events === 0 && coverage.latest) {
    return `all ${coverage.covered_events} events, by the checkpoint at seq ${coverage.latest.seq}`;
  }
  return (
    `${coverage.covered_events} of ${coverage.covered_events + coverage.uncovered_events} events; ` +
    "the rest are signed by the next checkpoint (`credbroker audit seal` makes one now)"
  );
}

/** The terminal summary: who, the delegation chain, credentials, approvals and the chain check. */
export function formatEvidence(report: EvidenceReport): string {
  const { summary, chain } = report;
  const cited = chain.cited.valid
    ? `the ${chain.cited.events} events cited verify`
    : `INVALID: ${chain.cited.problems.map((p) => `seq ${p.seq}: ${p.reason}`).join("; ")}`;
  const blocks = [
    formatFields([
      ["task", report.report.subject_task_id],
      ["root task", report.report.root_task_id],
      [
        "initiator",
        `${summary.initiator.subject} (${summary.initiator.verified ? "verified" : "unverified"})`,
      ],
      ["agent chain", summary.agent_chain.join(" → ")],
      [
        "decisions",
        `allow ${summary.decisions.allow}, deny ${summary.decisions.deny}, approval required ${summary.decisions.approval_required}`,
      ],
      [
        "audit",
        `${summary.events} events; ${cited}; whole chain ${chain.whole_chain.valid ? "valid" : "INVALID"}`,
      ],
      ["sealed", sealedLine(chain.checkpoints)],
      ["generated", shortTime(report.report.generated_at)],
    ]),
    formatTable(taskColumns, report.tasks) + (summary.truncated ? "\n(tree truncated: see --json)" : ""),
    report.credentials.length > 0 ? formatTable(credentialColumns, report.credentials) : "no credentials",
  ];
  if (report.approvals.length > 0) blocks.push(formatTable(approvalColumns, report.approvals));
  if (report.valid_at) blocks.push(formatValidAt(report));
  return blocks.join("\n\n");
}
