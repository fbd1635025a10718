import { type Response, Router } from "express";
import type { QueuedApproval } from "../approvals/approval-queue.js";
import { badForm, CONSOLE_CSP, field, sendPage, userOf } from "./console-context.js";
import { countdown, csrfField, html, iso, type SafeHtml } from "./console-html.js";
import type { ConsoleServices } from "./console-services.js";

const APPROVAL_ID = /^apr_[A-Za-z0-9_-]{1,64}$/;

function card(item: QueuedApproval, csrf: string, now: number): SafeHtml {
  const { approval: a, task } = item;
  const chain = task ? [...task.actChain, task.agent].join(" → ") : a.requester;
  const commentId = `comment-${a.id}`;
  return html`<article class="approval" data-approval="${a.id}" aria-labelledby="h-${a.id}">
<h2 id="h-${a.id}">${a.profile} for ${task?.agent ?? a.requester}</h2>
<dl class="facts">
<dt>Agent (requester)</dt><dd><code>${a.requester}</code></dd>
<dt>Initiator</dt><dd>${task ? html`<code>${task.initiator.subject}</code> ${task.initiator.verified ? "(verified)" : "(not verified)"}` : "—"}</dd>
<dt>Intent</dt><dd>${task?.intent ?? "—"}</dd>
<dt>Task</dt><dd><a href="/console/tasks/${a.taskId}"><code>${a.taskId}</code></a></dd>
<dt>Profile</dt><dd>${a.profile} (${a.provider})</dd>
<dt>Scopes</dt><dd>${a.scopes.length ? a.scopes.join(", ") : "none"}</dd>
<dt>TTL</dt><dd>${a.ttlSeconds === null ? "profile default" : `${a.ttlSeconds} s`}</dd>
<dt>Agent's reason</dt><dd>${a.reason || "—"}</dd>
<dt>Policies asking for approval</dt><dd>${a.policyIds.join(", ") || "—"}</dd>
<dt>Delegation chain</dt><dd>${chain}</dd>
<dt>Requested</dt><dd>${iso(a.createdAt)}</dd>
<dt>Expires in</dt><dd>${countdown(a.expiresAt, now)}</dd>
</dl>
<form method="post" action="/console/approvals/${a.id}/decide">${csrfField(csrf)}
<label for="${commentId}">Comment</label>
<textarea id="${commentId}" name="comment" rows="2" maxlength="2000"></textarea>
<p><button class="primary" type="submit" name="decision" value="approve">Approve</button>
<button class="danger" type="submit" name="decision" value="deny">Deny</button></p>
</form></article>`;
}

function queue(items: QueuedApproval[], csrf: string, now: number): SafeHtml {
  if (items.length === 0) return html`<p class="muted" data-empty>No approvals are waiting for you.</p>`;
  return html`<p>${items.length} waiting for a decision.</p>${items.map((item) => card(item, csrf, now))}`;
}

/** The approvals queue: the pending approvals the signed-in human may decide, refreshed live. */
export function approvalPages(services: ConsoleServices): Router {
  const router = Router();

  router.get("/approvals", async (req, res) => {
    const user = userOf(req);
    const items = await services.approvalQueue(user.principal);
    const done = typeof req.query.done === "string" ? req.query.done : "";
    const flash = /^(approved|denied):apr_[A-Za-z0-9_-]{1,64}$/.test(done)
      ? html`<p class="note" role="status">${done.replace(":", " ")}.</p>`
      : "";
    sendPage(res, {
      title: "Approvals",
      user,
      section: "approvals",
      body: html`${flash}<div id="queue" aria-live="polite" data-live-url="/console/approvals/live" data-refresh-ms="${services.refreshMs}">${queue(items, user.csrf, services.clock.now())}</div>`,
    });
  });

  router.get("/approvals/live", async (req, res) => {
    const user = userOf(req);
    const items = await services.approvalQueue(user.principal);
    sendFragment(res, queue(items, user.csrf, services.clock.now()));
  });

  router.post("/approvals/:approvalId/decide", async (req, res) => {
    const user = userOf(req);
    const id = req.params.approvalId;
    const decision = field(req.body, "decision");
    const comment = field(req.body, "comment").slice(0, 2000) || undefined;
    if (!APPROVAL_ID.test(id)) throw badForm("Not an approval id.");
    if (decision === "approve") await services.approvals.approve(user.principal, id, comment);
    else if (decision === "deny") await services.approvals.deny(user.principal, id, comment);
    else throw badForm("Choose Approve or Deny.");
    res.redirect(303, `/console/approvals?done=${decision === "approve" ? "approved" : "denied"}:${id}`);
  });

  return router;
}

/** A piece of a page for a live region (same escaping, same CSP, never cached). */
export function sendFragment(res: Response, body: SafeHtml): void {
  res
    .set("content-security-policy", CONSOLE_CSP)
    .set("cache-control", "no-store")
    .type("html")
    .send(body.text);
}
