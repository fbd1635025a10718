import { Router } from "express";
import { orRefused } from "./console-audit.js";
import { sendPage, userOf } from "./console-context.js";
import { html, type SafeHtml } from "./console-html.js";
import type { ConsoleServices } from "./console-services.js";

const SCAN = 1000;

const slug = (title: string) => title.toLowerCase().replace(/[^a-z]+/g, "-");

const card = (title: string, href: string, content: SafeHtml | "refused"): SafeHtml =>
  html`<section class="card" aria-labelledby="c-${slug(title)}"><h2 id="c-${slug(title)}"><a href="/console/${href}">${title}</a></h2>${
    content === "refused" ? html`<p class="muted">Your role may not read this.</p>` : content
  }</section>`;

const count = (n: number, label: string, more: boolean): SafeHtml =>
  html`<span class="n">${n}${more ? "+" : ""}</span> ${label}`;

/** Overview: open tasks, live credentials by provider and state, approvals, failures, the audit chain. */
export function overviewPage(services: ConsoleServices): Router {
  const router = Router();
  router.get("/", async (req, res) => {
    const user = userOf(req);
    const { admin } = services;
    const p = user.principal;
    const [tasks, credentials, approvals, failed, checkpoints] = await Promise.all([
      orRefused(() => admin.listTasks(p, { state: "open", limit: SCAN })),
      orRefused(() => admin.listCredentials(p, { limit: SCAN })),
      orRefused(() => services.approvalQueue(p, 100)),
      orRefused(() => admin.listCredentials(p, { state: "revoke_failed", limit: SCAN })),
      orRefused(() => services.auditService.checkpoints(p)),
    ]);
    const byProvider = new Map<string, number>();
    if (credentials !== "refused")
      for (const c of credentials.items) {
        const key = `${c.provider} · ${c.state}`;
        byProvider.set(key, (byProvider.get(key) ?? 0) + 1);
      }
    const last = checkpoints === "refused" ? null : checkpoints.checkpoints.at(-1);
    // Shown to those who may read the credential listing (the counts say how much revocation work waits).
    const depth = credentials === "refused" ? "refused" : await services.queueDepth();
    sendPage(res, {
      title: "Overview",
      user,
      section: "overview",
      body: html`<div class="cards">
${card("Open tasks", "tasks?state=open", tasks === "refused" ? tasks : count(tasks.items.length, "open", tasks.nextCursor !== null))}
${card("Credentials", "tasks", credentials === "refused" ? credentials : html`<ul>${[...byProvider].map(([k, n]) => html`<li>${k}: <strong>${n}</strong></li>`)}</ul>${byProvider.size ? "" : html`<p>None recorded.</p>`}`)}
${card("Pending approvals", "approvals", approvals === "refused" ? approvals : count(approvals.length, "waiting for you", false))}
${card("Failed revocations", "failed", failed === "refused" ? failed : count(failed.items.length, "revoke_failed", failed.nextCursor !== null))}
${card("Revocation queue", "failed", depth === "refused" ? depth : html`<ul>${Object.entries(depth).map(([state, n]) => html`<li>${state}: <strong data-queue="${state}">${n}</strong></li>`)}</ul>`)}
${card("Audit chain", "audit", checkpoints === "refused" ? checkpoints : html`<p>${checkpoints.checkpoints.length} signed checkpoint(s). Last: ${last ? `seq ${last.seq} at ${last.time}` : "none yet"}.</p><p><a href="/console/audit/verify">Verify the chain</a></p>`)}
</div>`,
    });
  });
  return router;
}
