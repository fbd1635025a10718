import { Router } from "express";
import { renderEvidenceHtml } from "../evidence/evidence-html.js";
import type { EvidenceReport } from "../evidence/evidence-types.js";
import type { TaskSummary } from "../tasks/task-details.js";
import type { TaskState } from "../tasks/task-types.js";
import { badForm, field, sendPage, userOf } from "./console-context.js";
import { countdown, csrfField, html, iso, type SafeHtml } from "./console-html.js";
import type { ConsoleServices } from "./console-services.js";

const TASK_ID = /^tsk_[A-Za-z0-9_-]{1,64}$/;
const STATES: TaskState[] = ["open", "closing", "closed"];
/** The evidence page shows nothing but itself (the same policy as `GET /v1/tasks/{id}/evidence`). */
const EVIDENCE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const q = (value: unknown): string => (typeof value === "string" ? value.trim().slice(0, 200) : "");

/** The delegation tree of the listed tasks: children under their parents, each with a live countdown. */
function tree(items: TaskSummary[], now: number): SafeHtml {
  const byParent = new Map<string | null, TaskSummary[]>();
  const listed = new Set(items.map((item) => item.task.id));
  for (const item of items) {
    const parent = item.task.parentId && listed.has(item.task.parentId) ? item.task.parentId : null;
    byParent.set(parent, [...(byParent.get(parent) ?? []), item]);
  }
  const branch = (parent: string | null): SafeHtml => {
    const children = byParent.get(parent) ?? [];
    if (children.length === 0) return html``;
    return html`<ul class="tree">${children.map(({ task, counts }) => {
      const live = counts.live;
      return html`<li data-task="${task.id}"><a href="/console/tasks/${task.id}"><code>${task.id}</code></a> ${task.state}
· agent <code>${task.agent}</code> · initiator <code>${task.initiator.subject}</code> · ${task.intent}
· ${live} live credential(s) · ${task.state === "open" ? html`deadline in ${countdown(task.deadline, now)}` : `closed ${iso(task.closedAt)}`}${branch(task.id)}</li>`;
    })}</ul>`;
  };
  return branch(null);
}

function filters(query: Record<string, string>): SafeHtml {
  const input = (name: string, label: string) =>
    html`<div><label for="f-${name}">${label}</label><input id="f-${name}" name="${name}" value="${query[name] ?? ""}"></div>`;
  return html`<form method="get" action="/console/tasks" class="filters" role="search">
${input("agent", "Agent")}${input("initiator", "Initiator")}
<div><label for="f-state">State</label><select id="f-state" name="state"><option value="">any</option>${STATES.map(
    (s) => html`<option value="${s}"${query.state === s ? html` selected` : ""}>${s}</option>`,
  )}</select></div>${input("label", "Label (key=value)")}<div><button type="submit">Filter</button></div></form>`;
}

/** Tasks: filtered list as a delegation tree; a task page; its evidence at an instant. */
export function taskPages(services: ConsoleServices): Router {
  const router = Router();

  router.get("/tasks", async (req, res) => {
    const user = userOf(req);
    const query = {
      agent: q(req.query.agent),
      initiator: q(req.query.initiator),
      state: q(req.query.state),
      label: q(req.query.label),
    };
    const state = STATES.find((s) => s === query.state);
    const page = await services.admin.listTasks(user.principal, {
      limit: 1000,
      ...(state ? { state } : {}),
      ...(query.agent ? { agent: query.agent } : {}),
      ...(query.initiator ? { initiator: query.initiator } : {}),
    });
    const [key, value] = query.label.split("=", 2);
    const items = page.items.filter(
      (item) => !key || item.task.labels[key] === (value ?? item.task.labels[key]),
    );
    sendPage(res, {
      title: "Tasks",
      user,
      section: "tasks",
      body: html`${filters(query)}<p>${items.length} task(s).</p>${tree(items, services.clock.now())}`,
    });
  });

  router.get("/tasks/:taskId", async (req, res) => {
    const user = userOf(req);
    const id = req.params.taskId;
    if (!TASK_ID.test(id)) throw badForm("Not a task id.");
    const report = await services.evidence.report(user.principal, id);
    sendPage(res, {
      title: `Task ${id}`,
      user,
      section: "tasks",
      body: taskBody(report, user.csrf, services.clock.now()),
    });
  });

  router.post("/tasks/:taskId/close", async (req, res) => {
    const user = userOf(req);
    const id = req.params.taskId;
    const reason = field(req.body, "reason");
    if (!TASK_ID.test(id) || !reason) throw badForm("Give a reason for closing the task.");
    const started = await services.admin.startRevocation(user.principal, {
      selector: { task_id: id },
      reason,
      dryRun: false,
    });
    res.redirect(303, `/console/revocations/${started.revocation_id}`);
  });

  router.get("/tasks/:taskId/evidence", async (req, res) => {
    const user = userOf(req);
    const id = req.params.taskId;
    if (!TASK_ID.test(id)) throw badForm("Not a task id.");
    const at = atOf(q(req.query.at));
    const report = await services.evidence.report(user.principal, id, at);
    res.set("content-security-policy", EVIDENCE_CSP).set("cache-control", "no-store").type("html");
    res.send(renderEvidenceHtml(report));
  });

  return router;
}

/** A task page: its facts, credentials, the evidence form, the close form (while open) and its timeline. */
function taskBody(report: EvidenceReport, csrf: string, now: number): SafeHtml {
  const id = report.report.subject_task_id;
  const task = report.tasks.find((t) => t.relation === "subject");
  if (!task) throw badForm("The report has no subject task.");
  const rows = report.credentials
    .filter((c) => c.task_id === id)
    .map(
      (
        c,
      ) => html`<tr><td><code>${c.credential_id}</code></td><td data-state>${c.state}</td><td>${c.provider}</td>
<td>${c.profile}</td><td>${c.downstream_account ?? "—"}</td><td>${c.expires_at ?? "—"}</td></tr>`,
    );
  const timeline = report.timeline.map(
    (e) =>
      html`<tr><td>${e.seq}</td><td>${e.time}</td><td>${e.type}</td><td><code>${e.actor ?? ""}</code></td><td>${e.summary}</td></tr>`,
  );
  const closeForm =
    task.state === "open"
      ? html`<h2>Close</h2><form method="post" action="/console/tasks/${id}/close">${csrfField(csrf)}
<label for="close-reason">Reason</label><input id="close-reason" name="reason" required maxlength="2000" size="40">
<button class="danger" type="submit">Close task and revoke its credentials</button></form>`
      : "";
  return html`<dl class="facts"><dt>State</dt><dd>${task.state}${task.close_reason ? ` (${task.close_reason})` : ""}</dd>
<dt>Agent</dt><dd><code>${task.agent}</code></dd><dt>Owner</dt><dd><code>${task.owner}</code></dd>
<dt>Initiator</dt><dd><code>${task.initiator.subject}</code></dd><dt>Intent</dt><dd>${task.intent}</dd>
<dt>Deadline</dt><dd>${task.deadline} ${task.state === "open" ? html`(in ${countdown(Date.parse(task.deadline), now)})` : ""}</dd>
<dt>Parent</dt><dd>${task.parent_task_id ? html`<a href="/console/tasks/${task.parent_task_id}">${task.parent_task_id}</a>` : "—"}</dd></dl>
<h2>Credentials</h2><table><thead><tr><th>Id</th><th>State</th><th>Provider</th><th>Profile</th><th>Downstream account</th><th>Expires</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Evidence</h2><form method="get" action="/console/tasks/${id}/evidence" class="filters">
<div><label for="at">Valid at (UTC)</label><input id="at" name="at" type="datetime-local" step="1"></div>
<div><button type="submit">Open evidence report</button></div></form>
${closeForm}
<h2>Timeline</h2><table><thead><tr><th>Seq</th><th>Time</th><th>Event</th><th>Actor</th><th>Summary</th></tr></thead><tbody>${timeline}</tbody></table>`;
}

/** `datetime-local` (read as UTC) or RFC 3339; empty = no instant. */
function atOf(text: string): number | undefined {
  if (!text) return undefined;
  const withZone = /[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text.length === 16 ? `${text}:00` : text}Z`;
  const ms = Date.parse(withZone);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(text) || Number.isNaN(ms))
    throw badForm("The instant must be a date and time, for example 2026-12-04T19:30:00.");
  return ms;
}
