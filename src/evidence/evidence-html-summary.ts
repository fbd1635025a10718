import type { ChainEvidence, CredentialEntry, EvidenceReport, TaskEntry } from "./evidence-types.js";
import { aside, badge, html, id, ids, joined, type SafeHtml, time } from "./html-markup.js";

/** Most uncovered seqs the summary names before it says how many more there are. */
const SEQS_SHOWN = 12;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "valid" or "INVALID": both the events this report cites and the whole chain must verify. */
export const chainVerdict = (chain: ChainEvidence): "valid" | "INVALID" =>
  chain.cited.valid && chain.whole_chain.valid ? "valid" : "INVALID";

function outcome(task: TaskEntry | undefined): SafeHtml {
  if (!task) return html`—`;
  const ended = task.closed_at ?? task.closing_at;
  return html`${badge(task.state)}${task.close_reason ? html` (${task.close_reason})` : ""}${ended ? html` at ${time(ended)}` : html` · deadline ${time(task.deadline)}`}`;
}

/** "2 issued: 1 revoked, 1 expired", plus the requests that never yielded a credential. */
function credentialOutcomes(credentials: readonly CredentialEntry[]): SafeHtml {
  const counts = new Map<string, number>();
  for (const c of credentials) counts.set(c.revocation.outcome, (counts.get(c.revocation.outcome) ?? 0) + 1);
  const notIssued = counts.get("not_issued") ?? 0;
  counts.delete("not_issued");
  const issued = credentials.length - notIssued;
  const endings = [...counts].map(([state, n]) => html`${n} ${badge(state)}`);
  return html`${issued} issued${endings.length > 0 ? html`: ${joined(endings, ", ")}` : ""}${notIssued > 0 ? html`; ${notIssued} requested but not issued` : ""}`;
}

function chainLine(chain: ChainEvidence): SafeHtml {
  const whole = chain.whole_chain;
  const problem = whole.valid ? null : whole.first_invalid;
  return html`${badge(chainVerdict(chain))} ${chain.cited.events} cited events${chain.cited.valid ? "" : html` (${plural(chain.cited.problems.length, "problem")}, listed below)`}; whole chain ${whole.valid ? "valid" : "INVALID"}, ${whole.events} events${problem ? html`, first problem at seq ${problem.seq}: ${problem.reason}` : ""}`;
}

/** How many of the report's events a signed checkpoint covers, and what to do about the rest. */
function coverageLine(chain: ChainEvidence): SafeHtml {
  const c = chain.checkpoints;
  const latest = c.latest
    ? html`newest checkpoint: seq ${c.latest.seq}, signed ${time(c.latest.time)} by key ${id(c.latest.kid)}${c.latest.signature_valid ? "" : html` — ${badge("INVALID")} signature`}`
    : html`no signed checkpoint yet`;
  if (c.uncovered_events === 0)
    return html`${badge("valid")} all ${c.covered_events} events covered (through seq ${c.covered_through_seq})${aside(latest)}`;
  const shown = c.uncovered_seqs.slice(0, SEQS_SHOWN).join(", ");
  const more =
    c.uncovered_seqs.length > SEQS_SHOWN ? ` and ${c.uncovered_seqs.length - SEQS_SHOWN} more` : "";
  return html`${c.covered_events} of ${c.covered_events + c.uncovered_events} events covered; <strong>${plural(c.uncovered_events, "event")} not yet covered</strong> (seq ${shown}${more}): they verify by hash links only until the next checkpoint (an operator can sign one now: <code>credbroker audit seal</code>)${aside(latest)}`;
}

/** The part an auditor reads first: whose task, who did it, how it ended, and whether the record holds. */
export function summarySection(report: EvidenceReport): SafeHtml {
  const s = report.summary;
  const subject = report.tasks.find((t) => t.relation === "subject");
  return html`<section class="summary"><h2>Summary</h2><dl class="facts">
<dt>Task</dt><dd>${subject?.intent ?? null}${aside(id(report.report.subject_task_id))}</dd>
<dt>Initiator</dt><dd>${s.initiator.subject} (${s.initiator.verified ? "verified by ID token" : "asserted, not verified"})</dd>
<dt>Agent</dt><dd>${ids(s.agent_chain)}${s.tasks > 1 ? aside(`${plural(s.tasks, "task")} in this report${s.truncated ? " (truncated)" : ""}`) : ""}</dd>
<dt>Outcome</dt><dd>${outcome(subject)}</dd>
<dt>Credentials</dt><dd>${credentialOutcomes(report.credentials)}</dd>
<dt>Decisions</dt><dd>${s.decisions.allow} allow, ${s.decisions.deny} deny, ${s.decisions.approval_required} approval required; ${plural(s.approvals, "approval")}</dd>
<dt>Audit chain</dt><dd>${chainLine(report.chain)}</dd>
<dt>Signed checkpoints</dt><dd>${coverageLine(report.chain)}</dd>
</dl></section>`;
}

/** How to check the report without trusting the broker, and any cited-event problem in full. */
export function verificationSection(chain: ChainEvidence): SafeHtml {
  const problems = chain.cited.problems.map((p) => html`<li>seq ${p.seq}: ${p.reason}</li>`);
  return html`<section><h2>Verification</h2><dl class="facts">
<dt>Cited events</dt><dd>${badge(chain.cited.valid ? "valid" : "INVALID")} ${chain.cited.events} events, ${chain.cited.links_checked} consecutive links checked</dd>
<dt>Whole chain</dt><dd>${badge(chain.whole_chain.valid ? "valid" : "INVALID")} ${chain.whole_chain.events} events, ${plural(chain.whole_chain.checkpoints, "signed checkpoint")}</dd>
<dt>Newest checkpoint</dt><dd>${chain.checkpoints.latest ? html`seq ${chain.checkpoints.latest.seq}, hash ${id(chain.checkpoints.latest.hash)}` : "none yet"}</dd>
<dt>Offline</dt><dd>${chain.checkpoints.verify_offline}</dd>
</dl>${problems.length > 0 ? html`<ul>${problems}</ul>` : ""}</section>`;
}
