import { Router } from "express";
import { type RevocationStatus, type Selector, selectorSchema } from "../revocation/emergency-revocation.js";
import { sendFragment } from "./console-approvals.js";
import { badForm, field, sendPage, userOf } from "./console-context.js";
import { csrfField, html, type SafeHtml } from "./console-html.js";
import type { ConsoleServices } from "./console-services.js";

const KINDS: [string, string][] = [
  ["task_id", "Task id"],
  ["agent", "Agent"],
  ["initiator", "Initiator"],
  ["profile", "Profile"],
  ["provider", "Provider"],
  ["all", "Everything"],
];
const REVOCATION_ID = /^rev_[A-Za-z0-9_-]{1,64}$/;

/** The selector a form names: exactly one kind, with a value unless it is `all`. */
export function selectorOf(body: unknown): Selector {
  const kind = field(body, "kind");
  const value = field(body, "value");
  const parsed = selectorSchema.safeParse(kind === "all" ? { all: true } : { [kind]: value });
  if (!parsed.success) throw badForm("Choose what to revoke and give its value (for example an agent id).");
  return parsed.data;
}

/** The typed confirmation: the dry run's credential count, or the selector's value ("all" for everything). */
export function confirmed(selector: Selector, expected: string, typed: string): boolean {
  const [kind, value] = Object.entries(selector)[0] ?? ["all", true];
  const word = kind === "all" ? "all" : String(value);
  return typed !== "" && (typed === expected || typed === word);
}

const describeSelector = (selector: Selector): string => {
  const [kind, value] = Object.entries(selector)[0] ?? ["all", true];
  return kind === "all" ? "everything" : `${kind} = ${String(value)}`;
};

function orderForm(csrf: string): SafeHtml {
  return html`<form method="post" action="/console/revocations/dry-run" class="filters">${csrfField(csrf)}
<div><label for="kind">Revoke by</label><select id="kind" name="kind">${KINDS.map(([v, l]) => html`<option value="${v}">${l}</option>`)}</select></div>
<div><label for="value">Value</label><input id="value" name="value" size="40"></div>
<div><label for="reason">Reason</label><input id="reason" name="reason" size="40" required maxlength="2000"></div>
<div><button type="submit">Dry run</button></div></form>`;
}

function progress(status: RevocationStatus): SafeHtml {
  const final = status.state !== "running";
  const p = status.progress;
  const counts = p
    ? html`<dt>Revoked</dt><dd data-count="revoked">${p.revoked}</dd><dt>Expired</dt><dd>${p.expired}</dd>
<dt>Not issued</dt><dd>${p.not_issued}</dd><dt>Revoking</dt><dd>${p.revoking}</dd><dt>Revoke failed</dt><dd>${p.revoke_failed}</dd>`
    : "";
  const failed = (status.failed ?? []).map(
    (f) =>
      html`<li><code>${f.credential_id}</code> (task <code>${f.task_id}</code>): ${f.last_error ?? "no error recorded"}</li>`,
  );
  return html`<div${final ? html` data-final="${status.state}"` : ""}>
<p>State: <strong data-state>${status.state}</strong></p>
<dl class="facts"><dt>Selector</dt><dd>${describeSelector(status.selector)}</dd><dt>Reason</dt><dd>${status.reason}</dd>
<dt>Started by</dt><dd><code>${status.actor}</code> at ${status.created_at}</dd>
<dt>Tasks</dt><dd>${status.tasks}</dd><dt>Credentials</dt><dd>${status.credentials}</dd>${counts}</dl>
${failed.length ? html`<h2>Failed</h2><ul>${failed}</ul><p><a href="/console/failed">Failed revocations</a></p>` : ""}</div>`;
}

/** Emergency revocation: selector → dry-run count → typed confirmation → live progress. */
export function revocationPages(services: ConsoleServices): Router {
  const router = Router();
  const { admin } = services;

  router.get("/revocations", async (req, res) => {
    const user = userOf(req);
    const recent = await admin.listRevocations(user.principal, { limit: 20 });
    const rows = recent.revocations.map(
      (
        r,
      ) => html`<tr><td><a href="/console/revocations/${r.revocation_id}"><code>${r.revocation_id}</code></a></td>
<td>${r.dry_run ? "dry run" : r.state}</td><td>${describeSelector(r.selector)}</td><td>${r.credentials}</td><td>${r.created_at}</td></tr>`,
    );
    sendPage(res, {
      title: "Emergency revocation",
      user,
      section: "revocations",
      body: html`<p>Choose what to revoke. A dry run shows how many credentials and tasks it reaches; nothing is revoked until you confirm.</p>
${orderForm(user.csrf)}<h2>Recent</h2><table><thead><tr><th>Id</th><th>State</th><th>Selector</th><th>Credentials</th><th>Started</th></tr></thead><tbody>${rows}</tbody></table>`,
    });
  });

  router.post("/revocations/dry-run", async (req, res) => {
    const user = userOf(req);
    const selector = selectorOf(req.body);
    const reason = field(req.body, "reason");
    if (!reason) throw badForm("Give a reason: it is recorded with the revocation.");
    const dry = await admin.startRevocation(user.principal, { selector, reason, dryRun: true });
    const [kind, value] = Object.entries(selector)[0] ?? ["all", true];
    sendPage(res, {
      title: "Confirm emergency revocation",
      user,
      section: "revocations",
      body: html`<p class="alert" role="status" data-dry-run>Would revoke <strong data-credentials>${dry.credentials}</strong> credentials in <strong data-tasks>${dry.tasks}</strong> tasks (${describeSelector(selector)}).</p>
<form method="post" action="/console/revocations">${csrfField(user.csrf)}
<input type="hidden" name="kind" value="${kind}"><input type="hidden" name="value" value="${kind === "all" ? "" : String(value)}">
<input type="hidden" name="reason" value="${reason}"><input type="hidden" name="expected" value="${dry.credentials}">
<label for="confirm">Type ${dry.credentials} to confirm</label><p class="muted" id="confirm-hint">or ${kind === "all" ? "all" : String(value)}, the selector's value</p><input id="confirm" name="confirm" aria-describedby="confirm-hint" autocomplete="off" required>
<p><button class="danger" type="submit">Revoke now</button> <a href="/console/revocations">Cancel</a></p></form>`,
    });
  });

  router.post("/revocations", async (req, res) => {
    const user = userOf(req);
    const selector = selectorOf(req.body);
    const reason = field(req.body, "reason");
    const expected = field(req.body, "expected");
    const typed = field(req.body, "confirm");
    if (!reason || !expected || !confirmed(selector, expected, typed))
      throw badForm(`The confirmation did not match: type ${expected || "the count"} exactly.`);
    const started = await admin.startRevocation(user.principal, { selector, reason, dryRun: false });
    res.redirect(303, `/console/revocations/${started.revocation_id}`);
  });

  router.get("/revocations/:revocationId", async (req, res) => {
    const user = userOf(req);
    const id = req.params.revocationId;
    if (!REVOCATION_ID.test(id)) throw badForm("Not a revocation id.");
    const status = await admin.revocationStatus(user.principal, id);
    sendPage(res, {
      title: `Revocation ${id}`,
      user,
      section: "revocations",
      body: html`<div aria-live="polite" data-live-url="/console/revocations/${id}/live" data-refresh-ms="${services.refreshMs}">${progress(status)}</div>`,
    });
  });

  router.get("/revocations/:revocationId/live", async (req, res) => {
    const id = req.params.revocationId;
    if (!REVOCATION_ID.test(id)) throw badForm("Not a revocation id.");
    sendFragment(res, progress(await admin.revocationStatus(userOf(req).principal, id)));
  });

  return router;
}
