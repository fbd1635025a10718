import { describe, expect, it } from "vitest";
import { createEvidenceBuilder } from "../../../src/evidence/evidence-builder.js";
import { escapeHtml, renderEvidenceHtml } from "../../../src/evidence/evidence-html.js";
import { chain, credential, MIN, memoryDeps, T0, task } from "./evidence-fixtures.js";

describe("evidence page", () => {
  it("escapes every recorded string", () => {
    expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;",
    );
  });

  it("renders a self-contained page without scripts, with hostile task and event text escaped", async () => {
    const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
    const root = task({ id: "tsk_root", intent: evil, labels: { note: evil } });
    const events = chain([{ type: "task.closing", actor: "ci:planner", task_id: "tsk_root", reason: evil }]);
    const report = await createEvidenceBuilder(
      memoryDeps({
        tasks: [root],
        credentials: [credential({ id: "crd_1", taskId: "tsk_root", reason: evil })],
        events,
      }),
    ).build(root, { at: T0 + MIN });
    const page = renderEvidenceHtml(report);
    expect(page.startsWith("<!doctype html>")).toBe(true);
    expect(page).toContain("tsk_root");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page).toContain("asked for: &lt;script&gt;");
    expect(page).not.toContain("<script");
    expect(page).not.toContain("<img");
    expect(page).not.toMatch(/<[^>]*\s(src|href|on\w+)=/i);
    expect(page).toContain("Valid at");
    expect(page).toContain("OWASP Non-Human Identities Top 10");
  });
});
