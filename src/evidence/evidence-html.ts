import type {
  ChainEvidence,
  ControlFramework,
  CredentialEntry,
  EvidenceReport,
  TaskEntry,
  ValidAtAnswer,
} from "./evidence-types.js";

/** Markup that is already escaped. Only `html` makes one, so every interpolated string is escaped once. */
class SafeHtml {
  constructor(readonly markup: string) {}
}

type Fragment = string | number | boolean | null | SafeHtml | readonly SafeHtml[];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

function fragment(value: Fragment): string {
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map((part: SafeHtml) => part.markup).join("");
  if (value === null) return "—";
  return escapeHtml(String(value));
}

/** Tagged template: literal markup stays, every interpolation is escaped (or inserted if already safe). */
function html(strings: TemplateStringsArray, ...values: Fragment[]): SafeHtml {
  let out = strings[0] ?? "";
  for (const [i, value] of values.entries()) out += fragment(value) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dce3;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}.muted{color:#5b6475}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px}
th,td{border:1px solid #e1e4ea;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef0f4;font-weight:600}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600;white-space:nowrap}
.ok{background:#dff3e4;color:#17692f}.bad{background:#fbe0e0;color:#9b1c1c}.warn{background:#fff1d6;color:#8a5300}
.na{background:#eceef2;color:#4a5263}.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}
.facts dt{color:#5b6475}.facts dd{margin:0}
@media print{body{background:#fff}main{padding:0}}
`;

const BADGE_CLASS: Record<string, string> = {
  evidenced: "ok",
  by_design: "na",
  not_exercised: "na",
  gap: "bad",
  allow: "ok",
  deny: "bad",
  approval_required: "warn",
  approved: "ok",
  denied: "bad",
  cancelled: "na",
  redeemed: "ok",
  expired: "na",
  pending: "warn",
  live: "warn",
  revoking: "warn",
  revoked: "ok",
  not_issued: "na",
  revoke_failed: "bad",
  open: "warn",
  closing: "warn",
  closed: "ok",
};

const badge = (value: string): SafeHtml =>
  html`<span class="badge ${BADGE_CLASS[value] ?? "na"}">${value}</span>`;
const code = (value: string | null): SafeHtml => (value === null ? html`—` : html`<code>${value}</code>`);
const codes = (values: readonly string[]): SafeHtml =>
  values.length === 0 ? html`—` : html`${values.map((value, i) => html`${i > 0 ? ", " : ""}${code(value)}`)}`;

function table(headers: string[], rows: SafeHtml[], empty: string): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table>`;
}

function taskRows(tasks: readonly TaskEntry[]): SafeHtml[] {
  return tasks.map(
    (t) => html`<tr><td>${t.depth}</td><td>${code(t.task_id)}<br><span class="muted">${t.relation}</span></td>
<td>${t.intent}</td><td>${t.initiator.subject}<br><span class="muted">${t.initiator.verified ? "verified" : "not verified"}</span></td>
<td>${code(t.owner)}</td><td>${code(t.agent)}</td><td>${badge(t.state)}${t.close_reason ? html`<br><span class="muted">${t.close_reason}</span>` : ""}</td>
<td>${t.created_at}<br><span class="muted">deadline ${t.deadline}</span>${t.closed_at ? html`<br><span class="muted">closed ${t.closed_at}</span>` : ""}</td></tr>`,
  );
}

function credentialRows(credentials: readonly CredentialEntry[]): SafeHtml[] {
  return credentials.map(
    (c) => html`<tr><td>${code(c.credential_id)}<br><span class="muted">task ${c.task_id}</span></td>
<td>${c.provider} / ${c.profile}<br><span class="muted">${c.scopes.join(" ") || "no scopes"}</span>${c.request_reason ? html`<br><span class="muted">asked for: ${c.request_reason}</span>` : ""}</td>
<td>${code(c.downstream_account)}</td><td>${c.issued_at}</td><td>${c.expires_at}</td><td>${c.revoked_at}</td>
<td>${badge(c.revocation.outcome)}${c.revocation.reason ? html`<br><span class="muted">${c.revocation.reason}</span>` : ""}${c.revocation.last_error ? html`<br><span class="muted">last error: ${c.revocation.last_error}</span>` : ""}</td>
<td>${codes(c.policy_ids)}<br><span class="muted">set ${c.policy_set_hash.slice(0, 16)}</span></td></tr>`,
  );
}

function validAtSection(answer: ValidAtAnswer | null): SafeHtml {
  if (!answer) return html``;
  const rows = answer.credentials.map(
    (
      c,
    ) => html`<tr><td>${code(c.credential_id)}</td><td>${code(c.task_id)}</td><td>${c.provider} / ${c.profile}</td>
<td>${code(c.downstream_account)}</td><td>${c.issued_at}</td><td>${c.valid_until}${c.revoke_failed ? html` ${badge("revoke_failed")}` : ""}</td></tr>`,
  );
  const possibly = answer.possibly_valid.map(
    (c) => html`<li>${code(c.credential_id)} (task ${c.task_id}) possibly until ${c.possibly_until}</li>`,
  );
  return html`<h2>Valid at ${answer.at}</h2><p class="muted">${answer.rule}</p>
${table(["Credential", "Task", "Provider / profile", "Downstream account", "Issued", "Valid until"], rows, "No credential was valid at that instant.")}
${possibly.length > 0 ? html`<p>Issuance uncertain (not counted as valid):</p><ul>${possibly}</ul>` : ""}`;
}

function chainSection(chain: ChainEvidence): SafeHtml {
  const whole = chain.whole_chain;
  const cp = chain.checkpoints.latest;
  const problems = chain.cited.problems.map((p) => html`<li>seq ${p.seq}: ${p.reason}</li>`);
  return html`<h2>Chain verification</h2><dl class="facts">
<dt>Cited events</dt><dd>${badge(chain.cited.valid ? "evidenced" : "gap")} events: ${chain.cited.events}; consecutive links checked: ${chain.cited.links_checked}</dd>
<dt>Whole chain</dt><dd>${badge(whole.valid ? "evidenced" : "gap")} events: ${whole.events}; signed checkpoints: ${whole.checkpoints}${whole.valid ? "" : html` — first problem at seq ${whole.first_invalid.seq}: ${whole.first_invalid.reason}`}</dd>
<dt>Latest checkpoint</dt><dd>${cp ? html`seq ${cp.seq} at ${cp.time} (key ${code(cp.kid)}), covers ${chain.checkpoints.covered_events} of the cited events` : "none yet"}</dd>
</dl>${problems.length > 0 ? html`<ul>${problems}</ul>` : ""}`;
}

function controlsSection(frameworks: readonly ControlFramework[]): SafeHtml {
  return html`<h2>Controls</h2>${frameworks.map(
    (f) =>
      html`<h3>${f.title}</h3>${table(
        ["Id", "Control", "Status", "Evidence"],
        f.controls.map(
          (c) =>
            html`<tr><td>${c.id}</td><td>${c.name}</td><td>${badge(c.status)}</td><td>${c.rationale}</td></tr>`,
        ),
        "No controls.",
      )}`,
  )}`;
}

/** The report as one self-contained page: inline CSS, no scripts, no external resources, all text escaped. */
export function renderEvidenceHtml(report: EvidenceReport): string {
  const s = report.summary;
  const decisions = report.decisions.map(
    (
      d,
    ) => html`<tr><td>${d.seq}</td><td>${d.time}</td><td>${code(d.actor)}</td><td>${d.action}</td><td>${badge(d.effect)}</td>
<td>${codes(d.policy_ids)}</td><td>${code(d.policy_set_hash.slice(0, 16))}</td><td>${code(d.task_id)}</td></tr>`,
  );
  const approvals = report.approvals.map(
    (a) => html`<tr><td>${code(a.approval_id)}<br><span class="muted">${a.profile}</span></td>
<td>${a.requested ? html`${code(a.requested.by)}<br>${a.requested.at}` : null}</td><td>${badge(a.outcome)}</td>
<td>${a.decided ? html`${a.decided.outcome} by ${code(a.decided.by)}<br>${a.decided.at}` : null}</td><td>${a.decided?.comment ?? null}</td>
<td>${a.ended ? html`${a.ended.outcome} ${a.ended.at}${a.ended.reason ? html`<br><span class="muted">${a.ended.reason}</span>` : ""}` : null}${a.credential_id ? html`<br>${code(a.credential_id)}` : ""}</td></tr>`,
  );
  const timeline = report.timeline.map(
    (e) =>
      html`<tr><td>${e.seq}</td><td>${e.time}</td><td>${code(e.type)}</td><td>${e.summary}</td><td>${code(e.task_id)}</td></tr>`,
  );
  const page = html`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence: ${report.report.subject_task_id}</title><style>${new SafeHtml(CSS)}</style></head><body><main>
<h1>Evidence report: ${code(report.report.subject_task_id)}</h1>
<p class="muted">Generated ${report.report.generated_at} by credbroker · root task ${report.report.root_task_id}${report.report.at ? html` · valid at ${report.report.at}` : ""}</p>
<dl class="facts"><dt>Initiator</dt><dd>${s.initiator.subject} (${s.initiator.verified ? "verified" : "not verified"})</dd>
<dt>Agent chain</dt><dd>${codes(s.agent_chain)}</dd><dt>Tasks</dt><dd>${s.tasks}${s.truncated ? " (truncated)" : ""}</dd>
<dt>Decisions</dt><dd>${s.decisions.allow} allow, ${s.decisions.deny} deny, ${s.decisions.approval_required} approval required</dd>
<dt>Credentials</dt><dd>${report.credentials.length}</dd><dt>Events</dt><dd>${s.events}</dd></dl>
<h2>Delegation chain</h2>${table(["Depth", "Task", "Intent", "Initiator", "Owner", "Agent", "State", "Times"], taskRows(report.tasks), "No tasks.")}
${validAtSection(report.valid_at)}
<h2>Credentials</h2>${table(["Credential", "Provider / profile", "Downstream account", "Issued", "Expires", "Revoked", "Outcome", "Policies"], credentialRows(report.credentials), "No credential was requested.")}
<h2>Decisions</h2>${table(["Seq", "Time", "Actor", "Action", "Effect", "Policies", "Policy set", "Task"], decisions, "No decisions.")}
<h2>Approvals</h2>${table(["Approval", "Requested", "Outcome", "Decided", "Comment", "Ended"], approvals, "No approvals were needed.")}
<h2>Timeline</h2>${table(["Seq", "Time", "Type", "What happened", "Task"], timeline, "No events.")}
${chainSection(report.chain)}
${controlsSection(report.controls)}
</main></body></html>`;
  return page.markup;
}
