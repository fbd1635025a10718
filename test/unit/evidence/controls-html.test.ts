import { describe, expect, it } from "vitest";
import { createEvidenceBuilder } from "../../../src/evidence/evidence-builder.js";
import { escapeHtml, renderEvidenceHtml } from "../../../src/evidence/evidence-html.js";
import type { ControlFramework } from "../../../src/evidence/evidence-types.js";
import { chain, credential, MIN, memoryDeps, T0, task } from "./evidence-fixtures.js";

const status = (frameworks: ControlFramework[], id: string) =>
  frameworks.flatMap((f) => f.controls).find((c) => c.id === id)?.status;

describe("controls", () => {
  it("maps the evidence to all four frameworks", async () => {
    const root = task({ id: "tsk_root" });
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root], credentials: [], events: [] }),
    ).build(root);
    expect(report.controls.map((f) => f.framework)).toEqual([
      "owasp_agentic_top10_2026",
      "owasp_nhi_top10_2025",
      "csa_maestro",
      "nist_ai_rmf_1_0",
    ]);
    const ids = report.controls.flatMap((f) => f.controls.map((c) => c.id));
    for (const id of [
      "ASI01",
      "ASI10",
      "NHI1",
      "NHI10",
      "L5",
      "L7",
      "GOVERN 1.4",
      "MEASURE 2.7",
      "MANAGE 2.4",
    ]) {
      expect(ids).toContain(id);
    }
    expect(status(report.controls, "ASI02")).toBe("not_exercised");
    expect(status(report.controls, "ASI07")).toBe("not_exercised");
  });

  it("flags credentials that outlive their task and credentials past the task deadline as gaps", async () => {
    const root = task({ id: "tsk_root", state: "closing", deadline: T0 + 5 * MIN });
    const failed = credential({
      id: "crd_failed",
      taskId: "tsk_root",
      state: "revoke_failed",
      expiresAt: T0 + 10 * MIN,
      lastError: "upstream 500",
    });
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root], credentials: [failed], events: [], now: T0 + MIN }),
    ).build(root);
    expect(status(report.controls, "NHI1")).toBe("gap");
    expect(status(report.controls, "NHI7")).toBe("gap");
    expect(report.credentials[0]?.revocation).toMatchObject({
      outcome: "revoke_failed",
      last_error: "upstream 500",
    });
  });

  it("shows a closed, delegated tree with revoked credentials as evidenced", async () => {
    const root = task({ id: "tsk_root", state: "closed", closeReason: "closed", closedAt: T0 + 9 * MIN });
    const child = task({
      id: "tsk_child",
      parentId: "tsk_root",
      depth: 1,
      agent: "ci:worker",
      state: "closed",
      closeReason: "parent_closed",
      actChain: ["ci:planner"],
    });
    const revoked = credential({
      id: "crd_1",
      taskId: "tsk_root",
      state: "revoked",
      revokedAt: T0 + 9 * MIN,
    });
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root, child], credentials: [revoked], events: [] }),
    ).build(root);
    for (const id of ["NHI1", "NHI7", "ASI07", "ASI08", "ASI02", "GOVERN 1.7"]) {
      expect([id, status(report.controls, id)]).toEqual([id, "evidenced"]);
    }
  });
});

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
