import { z } from "zod";
import { type Column, formatFields, formatTable, shortTime } from "./table.js";

/**
 * The parts of an evidence report (src/evidence/evidence-types.ts) the terminal summary shows. The full
 * report (timeline, controls) is for `--json` and `--html`.
 */
const initiator = z.object({ subject: z.string(), verified: z.boolean() });

const taskEntry = z.object({
  task_id: z.string(),
  relation: z.string(),
  depth: z.number(),
  agent: z.string(),
  state: z.string(),
  close_reason: z.string().nullable(),
  intent: z.string(),
});
type TaskEntry = z.infer<typeof taskEntry>;

const credentialEntry = z.object({
  credential_id: z.string(),
  task_id: z.string(),
  profile: z.string(),
  provider: z.string(),
  downstream_account: z.string().nullable(),
  issued_at: z.string().nullable(),
  valid_until: z.string().nullable(),
  policy_ids: z.array(z.string()),
  revocation: z.object({ outcome: z.string(), last_error: z.string().nullable() }),
});
type CredentialEntry = z.infer<typeof credentialEntry>;

const approvalEntry = z.object({
  approval_id: z.string(),
  outcome: z.string(),
  requested: z.object({ by: z.string().nullable(), at: z.string() }).nullable(),
  settled: z.object({ by: z.string().nullable(), at: z.string(), comment: z.string().nullable() }).nullable(),
});
type ApprovalEntry = z.infer<typeof approvalEntry>;

const validCredential = z.object({
  credential_id: z.string(),
  task_id: z.string(),
  profile: z.string(),
  provider: z.string(),
  downstream_account: z.string().nullable(),
  issued_at: z.string(),
  valid_until: z.string(),
  revoke_failed: z.boolean(),
});
type ValidCredential = z.infer<typeof validCredential>;

const evidenceReport = z.object({
  report: z.object({ subject_task_id: z.string(), root_task_id: z.string(), generated_at: z.string() }),
  summary: z.object({
    initiator,
    agent_chain: z.array(z.string()),
    truncated: z.boolean(),
    decisions: z.object({ allow: z.number(), deny: z.number(), approval_required: z.number() }),
    events: z.number(),
  }),
  tasks: z.array(taskEntry),
  approvals: z.array(approvalEntry),
  credentials: z.array(credentialEntry),
  valid_at: z
    .object({
      at: z.string(),
      rule: z.string(),
      credentials: z.array(validCredential),
      possibly_valid: z.array(z.object({ credential_id: z.string(), possibly_until: z.string() })),
    })
    .nullable(),
  chain: z.object({
    cited: z.object({
      valid: z.boolean(),
      events: z.number(),
      problems: z.array(z.object({ seq: z.number(), reason: z.string() })),
    }),
    whole_chain: z.object({ valid: z.boolean() }).loose(),
  }),
});
export type EvidenceSummaryReport = z.infer<typeof evidenceReport>;

/** The report parsed for the terminal summary, or null when its shape is not the one this CLI knows. */
export function parseEvidence(value: unknown): EvidenceSummaryReport | null {
  const result = evidenceReport.safeParse(value);
  return result.success ? result.data : null;
}

const taskColumns: Column<TaskEntry>[] = [
  { header: "task", cell: (t) => `${"  ".repeat(Math.max(0, t.depth))}${t.task_id}` },
  { header: "relation", cell: (t) => t.relation },
  { header: "agent", cell: (t) => t.agent, maxWidth: 48 },
  { header: "state", cell: (t) => (t.close_reason ? `${t.state} (${t.close_reason})` : t.state) },
  { header: "intent", cell: (t) => t.intent, maxWidth: 40 },
];

const credentialColumns: Column<CredentialEntry>[] = [
  { header: "credential", cell: (c) => c.credential_id },
  { header: "task", cell: (c) => c.task_id },
  { header: "profile", cell: (c) => c.profile },
  { header: "provider", cell: (c) => c.provider },
  { header: "account", cell: (c) => c.downstream_account, maxWidth: 32 },
  { header: "issued", cell: (c) => shortTime(c.issued_at) },
  { header: "valid until", cell: (c) => shortTime(c.valid_until) },
  { header: "outcome", cell: (c) => c.revocation.outcome },
  { header: "policies", cell: (c) => c.policy_ids.join(","), maxWidth: 32 },
];

const approvalColumns: Column<ApprovalEntry>[] = [
  { header: "approval", cell: (a) => a.approval_id },
  { header: "outcome", cell: (a) => a.outcome },
  { header: "requested by", cell: (a) => a.requested?.by, maxWidth: 40 },
  { header: "settled by", cell: (a) => a.settled?.by, maxWidth: 40 },
  { header: "at", cell: (a) => shortTime(a.settled?.at) },
  { header: "comment", cell: (a) => a.settled?.comment, maxWidth: 40 },
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
export function formatValidAt(report: EvidenceSummaryReport): string {
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

/** The terminal summary: who, the delegation chain, credentials, approvals and the chain check. */
export function formatEvidence(report: EvidenceSummaryReport): string {
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
      ["generated", shortTime(report.report.generated_at)],
    ]),
    formatTable(taskColumns, report.tasks) + (summary.truncated ? "\n(tree truncated: see --json)" : ""),
    report.credentials.length > 0 ? formatTable(credentialColumns, report.credentials) : "no credentials",
  ];
  if (report.approvals.length > 0) blocks.push(formatTable(approvalColumns, report.approvals));
  if (report.valid_at) blocks.push(formatValidAt(report));
  return blocks.join("\n\n");
}
