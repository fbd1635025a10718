import { Router } from "express";
import type { AuditEvent } from "../audit/audit-types.js";
import { isBrokerError } from "../shared/errors.js";
import { badForm, sendPage, userOf } from "./console-context.js";
import { html, type SafeHtml } from "./console-html.js";
import type { ConsoleServices } from "./console-services.js";

const TASK_ID = /^tsk_[A-Za-z0-9_-]{1,64}$/;
const EXPORT_MAX_EVENTS = 100_000;

const q = (value: unknown): string => (typeof value === "string" ? value.trim().slice(0, 100) : "");

function auditQuery(query: Record<string, unknown>) {
  const taskId = q(query.task_id);
  const since = q(query.since);
  if (taskId && !TASK_ID.test(taskId)) throw badForm("task_id must be a task id (tsk_…).");
  if (since && Number.isNaN(Date.parse(since))) throw badForm("since must be an RFC 3339 date-time.");
  return {
    ...(taskId ? { task_id: taskId } : {}),
    ...(since ? { since: new Date(Date.parse(since)).toISOString() } : {}),
  };
}

const row = (e: AuditEvent): SafeHtml =>
  html`<tr><td>${e.seq}</td><td>${e.time}</td><td>${e.type}</td><td><code>${e.actor ?? ""}</code></td>
<td>${e.task_id ? html`<a href="/console/tasks/${e.task_id}"><code>${e.task_id}</code></a>` : ""}</td><td>${e.decision ? `${e.decision.action} → ${e.decision.effect}` : ""}</td></tr>`;

/** Audit: filter events, verify the chain, export as JSON Lines. Each read is `ReadAudit`, audited. */
export function auditPages(services: ConsoleServices): Router {
  const router = Router();
  const audit = services.auditService;

  router.get("/audit", async (req, res) => {
    const user = userOf(req);
    const query = auditQuery(req.query);
    const page = await audit.list(user.principal, {
      ...query,
      limit: 200,
      ...(q(req.query.cursor) ? { cursor: q(req.query.cursor) } : {}),
    });
    const exportQuery = new URLSearchParams(query).toString();
    const next = page.next_cursor
      ? html`<p><a href="/console/audit?${new URLSearchParams({ ...query, cursor: page.next_cursor }).toString()}">Next page</a></p>`
      : "";
    sendPage(res, {
      title: "Audit",
      user,
      section: "audit",
      body: html`<form method="get" action="/console/audit/verify"><button type="submit">Verify the chain</button></form>
<form method="get" action="/console/audit" class="filters" role="search">
<div><label for="a-task">Task id</label><input id="a-task" name="task_id" value="${query.task_id ?? ""}"></div>
<div><label for="a-since">Since (RFC 3339)</label><input id="a-since" name="since" value="${query.since ?? ""}"></div>
<div><button type="submit">Filter</button></div></form>
<p><a href="/console/audit/export${exportQuery ? `?${exportQuery}` : ""}" download>Export these events (JSON Lines)</a></p>
<table><thead><tr><th>Seq</th><th>Time</th><th>Type</th><th>Actor</th><th>Task</th><th>Decision</th></tr></thead><tbody>${page.events.map(row)}</tbody></table>${next}`,
    });
  });

  router.get("/audit/verify", async (req, res) => {
    const user = userOf(req);
    const result = await audit.verify(user.principal);
    const body = result.valid
      ? html`<p class="note" role="status" data-chain="valid">The chain is intact: ${result.events} events (seq ${result.first_seq ?? "—"} to ${result.last_seq ?? "—"}), ${result.checkpoints} signed checkpoints.</p>`
      : html`<p class="alert" role="alert" data-chain="invalid">The chain is broken at seq ${result.first_invalid.seq}: ${result.first_invalid.reason}.</p>`;
    sendPage(res, {
      title: "Audit chain",
      user,
      section: "audit",
      body: html`${body}<p><a href="/console/audit">Back to the events</a></p>`,
    });
  });

  router.get("/audit/export", async (req, res) => {
    const user = userOf(req);
    const query = auditQuery(req.query);
    const lines: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await audit.list(user.principal, { ...query, limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const event of page.events) lines.push(JSON.stringify(event));
      cursor = page.next_cursor ?? undefined;
    } while (cursor && lines.length < EXPORT_MAX_EVENTS);
    res.set("cache-control", "no-store").set("content-disposition", 'attachment; filename="audit.jsonl"');
    res.type("application/x-ndjson").send(lines.length ? `${lines.join("\n")}\n` : "");
  });

  return router;
}

/** A section the signed-in human may not read shows that instead of failing the whole page. */
export async function orRefused<T>(read: () => Promise<T>): Promise<T | "refused"> {
  try {
    return await read();
  } catch (err) {
    if (isBrokerError(err) && (err.status === 403 || err.status === 404)) return "refused";
    throw err;
  }
}
