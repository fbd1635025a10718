import { summarySection, verificationSection } from "./evidence-html-summary.js";
import type {
  ApprovalEntry,
  ControlFramework,
  CredentialEntry,
  DecisionEntry,
  EvidenceReport,
  TaskEntry,
  TimelineEntry,
  ValidAtAnswer,
} from "./evidence-types.js";
import { aside, badge, html, id, ids, SafeHtml, table, time } from "./html-markup.js";

export { escapeHtml } from "./html-markup.js";

/**
 * Screen: ids cut short with an ellipsis (full value on hover), times on one line. Print: no backgrounds
 * (every status is a word), full ids, each detail section on a new page, rows and headings kept whole.
 */
const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dce3;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}.muted{color:#5b6475}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px}
th,td{border:1px solid #e1e4ea;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef0f4;font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.id{display:inline-block;max-width:16ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
.ts{white-space:nowrap;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600;white-space:nowrap;border:1px solid transparent}
.ok{background:#dff3e4;color:#17692f}.bad{background:#fbe0e0;color:#9b1c1c}.warn{background:#fff1d6;color:#8a5300}
.part{background:#e3ecfb;color:#1d4f91}.na{background:#eceef2;color:#4a5263}
.summary{background:#fff;border:1px solid #d8dce3;padding:4px 16px 12px}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px}.facts dt{color:#5b6475}.facts dd{margin:0}
@media print{
body{background:#fff;color:#000;font-size:11pt}main{max-width:none;padding:0}
.summary,table{background:none}th{background:none}
.badge{background:none;color:#000;border-color:#000}.bad{font-weight:800}
.id{display:inline;max-width:none;overflow:visible;white-space:normal;word-break:break-all}
section+section{break-before:page}h2,h3{break-after:avoid}
tr,dd,li{break-inside:avoid}thead{display:table-header-group}
}
`;

const section = (title: string, content: SafeHtml): SafeHtml =>
  html`<section><h2>${title}</h2>${content}</section>`;

/** How a task ended, in words: the path, the closer's note and the emergency revocation behind it. */
function endingOf(t: TaskEntry): SafeHtml {
  const e = t.ending;
  if (!e) return html``;
  const rev = e.revocation;
  return html`${aside(html`ended by ${e.path}${e.by ? html` (${id(e.by)})` : ""}${e.note ? `: ${e.note}` : ""}`)}${
    rev ? aside(html`revocation ${id(rev.revocation_id)}${rev.reason ? `: ${rev.reason}` : ""}`) : ""
  }`;
}

/** How a credential ended: through which path, settled by whom and when, and what the provider confirmed. */
function settlementOf(c: CredentialEntry): SafeHtml {
  const r = c.revocation;
  const settled = r.settled
    ? aside(
        html`${r.settled.event} ${time(r.settled.at)}${r.settled.by ? html` by ${id(r.settled.by)}` : ""}`,
      )
    : "";
  const path = r.path
    ? aside(html`via ${r.path}${r.revocation_id ? html` ${id(r.revocation_id)}` : ""}`)
    : "";
  const confirmed = r.confirmation
    ? aside(
        `provider: ${Object.entries(r.confirmation)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      )
    : "";
  const resolved = r.resolved ? aside(`resolved by hand by ${r.resolved.by}: ${r.resolved.reason}`) : "";
  return html`${path}${settled}${confirmed}${resolved}`;
}

function accessRow(a: EvidenceReport["accessed_by"][number]): SafeHtml {
  return html`<tr><td>${a.seq}</td><td>${time(a.time)}</td><td>${id(a.actor)}</td><td>${a.read}</td><td>${a.action}</td><td>${badge(a.effect)}</td></tr>`;
}

function taskRow(t: TaskEntry): SafeHtml {
  return html`<tr><td>${t.depth}</td><td>${id(t.task_id)}${aside(t.relation)}</td><td>${t.intent}</td>
<td>${t.initiator.subject}${aside(t.initiator.verified ? "verified" : "not verified")}</td><td>${id(t.owner)}</td><td>${id(t.agent)}</td>
<td>${badge(t.state)}${t.close_reason ? aside(t.close_reason) : ""}${endingOf(t)}</td>
<td>${time(t.created_at)}${aside(html`deadline ${time(t.deadline)}`)}${t.closed_at ? aside(html`closed ${time(t.closed_at)}`) : ""}</td></tr>`;
}

function credentialRow(c: CredentialEntry): SafeHtml {
  const r = c.revocation;
  return html`<tr><td>${id(c.credential_id)}${aside(html`task ${id(c.task_id)}`)}</td>
<td>${c.provider} / ${c.profile}${aside(c.scopes.join(" ") || "no scopes")}${c.request_reason ? aside(`asked for: ${c.request_reason}`) : ""}</td>
<td>${id(c.downstream_account)}</td><td>${time(c.issued_at)}</td><td>${time(c.expires_at)}</td><td>${time(c.revoked_at)}</td>
<td>${badge(r.outcome)}${r.reason ? aside(r.reason) : ""}${r.last_error ? aside(`last error: ${r.last_error}`) : ""}${settlementOf(c)}</td>
<td>${ids(c.policy_ids)}${aside(html`set ${id(c.policy_set_hash)}`)}</td></tr>`;
}

function validAtSection(answer: ValidAtAnswer | null): SafeHtml {
  if (!answer) return html``;
  const rows = answer.credentials.map(
    (
      c,
    ) => html`<tr><td>${id(c.credential_id)}</td><td>${id(c.task_id)}</td><td>${c.provider} / ${c.profile}</td>
<td>${id(c.downstream_account)}</td><td>${time(c.issued_at)}</td><td>${time(c.valid_until)}${c.revoke_failed ? html` ${badge("revoke_failed")}` : ""}</td></tr>`,
  );
  const possibly = answer.possibly_valid.map(
    (c) =>
      html`<li>${id(c.credential_id)} (task ${id(c.task_id)}) possibly until ${time(c.possibly_until)}</li>`,
  );
  return html`<section><h2>Valid at ${time(answer.at)}</h2><p class="muted">${answer.rule}</p>
${table(["Credential", "Task", "Provider / profile", "Downstream account", "Issued", "Valid until"], rows, "No credential was valid at that instant.")}
${possibly.length > 0 ? html`<p>Issuance uncertain (not counted as valid):</p><ul>${possibly}</ul>` : ""}</section>`;
}

const decisionRow = (d: DecisionEntry): SafeHtml =>
  html`<tr><td>${d.seq}</td><td>${time(d.time)}</td><td>${id(d.actor)}</td><td>${d.action}</td><td>${badge(d.effect)}</td>
<td>${ids(d.policy_ids)}</td><td>${id(d.policy_set_hash)}</td><td>${id(d.task_id)}</td></tr>`;

function approvalRow(a: ApprovalEntry): SafeHtml {
  const ended = a.ended
    ? html`${a.ended.outcome} ${time(a.ended.at)}${a.ended.reason ? aside(a.ended.reason) : ""}`
    : null;
  return html`<tr><td>${id(a.approval_id)}${aside(a.profile)}</td>
<td>${a.requested ? html`${id(a.requested.by)}<br>${time(a.requested.at)}` : null}</td><td>${badge(a.outcome)}</td>
<td>${a.decided ? html`${a.decided.outcome} by ${id(a.decided.by)}<br>${time(a.decided.at)}` : null}</td><td>${a.decided?.comment ?? null}</td>
<td>${ended}${a.credential_id ? html`<br>${id(a.credential_id)}` : ""}</td></tr>`;
}

const timelineRow = (e: TimelineEntry): SafeHtml =>
  html`<tr><td>${e.seq}</td><td>${time(e.time)}</td><td><code>${e.type}</code></td><td>${e.summary}</td><td>${id(e.task_id)}</td><td>${id(e.hash)}</td></tr>`;

function controlsSection(frameworks: readonly ControlFramework[]): SafeHtml {
  return section(
    "Controls",
    html`<p class="muted">evidenced: this report shows the control operating; supports: the broker does its part, the control needs more; not covered: nothing here exercised it, or it failed (see the rationale).</p>${frameworks.map(
      (f) =>
        html`<h3>${f.title}</h3>${table(
          ["Id", "Control", "Status", "Rationale"],
          f.controls.map(
            (c) =>
              html`<tr><td>${c.id}</td><td>${c.name}</td><td>${badge(c.status)}</td><td>${c.rationale}</td></tr>`,
          ),
          "No controls.",
        )}`,
    )}`,
  );
}

function detailSections(report: EvidenceReport): SafeHtml {
  return html`${section("Delegation chain", table(["Depth", "Task", "Intent", "Initiator", "Owner", "Agent", "State", "Times"], report.tasks.map(taskRow), "No tasks."))}
${validAtSection(report.valid_at)}
${section("Credentials", table(["Credential", "Provider / profile", "Downstream account", "Issued", "Expires", "Revoked", "Outcome", "Policies"], report.credentials.map(credentialRow), "No credential was requested."))}
${section("Decisions", table(["Seq", "Time", "Actor", "Action", "Effect", "Policies", "Policy set", "Task"], report.decisions.map(decisionRow), "No decisions."))}
${section("Approvals", table(["Approval", "Requested", "Outcome", "Decided", "Comment", "Ended"], report.approvals.map(approvalRow), "No approvals were needed."))}
${section("Timeline", table(["Seq", "Time", "Type", "What happened", "Task", "Hash"], report.timeline.map(timelineRow), "No events."))}
${section("Accessed by (reads of this report, the task or its audit events; not the task's doing)", table(["Seq", "Time", "Reader", "Read", "Action", "Effect"], report.accessed_by.map(accessRow), "No recorded reads."))}
${verificationSection(report.chain)}
${controlsSection(report.controls)}`;
}

/** The report as one self-contained page: inline CSS, no scripts, no external resources, all text escaped. */
export function renderEvidenceHtml(report: EvidenceReport): string {
  const r = report.report;
  const page = html`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence: ${r.subject_task_id}</title><style>${new SafeHtml(CSS)}</style></head><body><main>
<header><h1>Evidence report: ${id(r.subject_task_id)}</h1>
<p class="muted">Generated ${time(r.generated_at)} by credbroker · root task ${id(r.root_task_id)}${r.at ? html` · valid at ${time(r.at)}` : ""}</p></header>
${summarySection(report)}
${detailSections(report)}
</main></body></html>`;
  return page.markup;
}
