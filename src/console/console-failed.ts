import { Router } from "express";
import { badForm, field, sendPage, userOf } from "./console-context.js";
import { csrfField, html, iso } from "./console-html.js";
import type { ConsoleServices } from "./console-services.js";

const CREDENTIAL_ID = /^crd_[A-Za-z0-9_-]{1,64}$/;

/** Failed revocations: the revoke_failed list with the last error, retry, and resolve by hand. */
export function failedPages(services: ConsoleServices): Router {
  const router = Router();

  router.get("/failed", async (req, res) => {
    const user = userOf(req);
    const page = await services.admin.listCredentials(user.principal, { state: "revoke_failed", limit: 500 });
    const now = services.clock.now();
    const done =
      typeof req.query.done === "string" && /^(retried|resolved):crd_[\w-]+$/.test(req.query.done)
        ? html`<p class="note" role="status">${req.query.done.replace(":", " ")}.</p>`
        : "";
    const rows = page.items.map((c) => {
      const reasonId = `reason-${c.id}`;
      return html`<tr data-credential="${c.id}"><td><code>${c.id}</code></td><td><a href="/console/tasks/${c.taskId}"><code>${c.taskId}</code></a></td>
<td>${c.provider} / ${c.profile}</td><td>${c.lastError ?? "—"} (${c.failureKind ?? "?"}, ${c.revokeAttempts} attempts)</td><td>${iso(c.expiresAt)}${c.expiresAt !== null && c.expiresAt < now ? " (passed)" : ""}</td>
<td><form method="post" action="/console/failed/${c.id}/retry" class="inline">${csrfField(user.csrf)}<button type="submit">Retry</button></form>
<form method="post" action="/console/failed/${c.id}/resolve">${csrfField(user.csrf)}<label for="${reasonId}">Resolved by hand because</label>
<input id="${reasonId}" name="reason" required maxlength="2000"> <button type="submit">Resolve</button></form></td></tr>`;
    });
    sendPage(res, {
      title: "Failed revocations",
      user,
      section: "failed",
      body: html`${done}<p>${page.items.length} credential(s) in <code>revoke_failed</code>: their tasks stay closing until each is retried successfully or resolved by hand.</p>
<table><thead><tr><th>Credential</th><th>Task</th><th>Provider / profile</th><th>Last error</th><th>Expires</th><th>Action</th></tr></thead><tbody>${rows}</tbody></table>`,
    });
  });

  router.post("/failed/:credentialId/retry", async (req, res) => {
    const id = req.params.credentialId;
    if (!CREDENTIAL_ID.test(id)) throw badForm("Not a credential id.");
    await services.admin.retry(userOf(req).principal, id);
    res.redirect(303, `/console/failed?done=retried:${id}`);
  });

  router.post("/failed/:credentialId/resolve", async (req, res) => {
    const id = req.params.credentialId;
    const reason = field(req.body, "reason");
    if (!CREDENTIAL_ID.test(id) || !reason) throw badForm("Say why the credential is settled by hand.");
    await services.admin.resolve(userOf(req).principal, id, reason);
    res.redirect(303, `/console/failed?done=resolved:${id}`);
  });

  return router;
}
