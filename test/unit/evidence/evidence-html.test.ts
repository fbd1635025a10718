import { describe, expect, it } from "vitest";
import { createEvidenceBuilder } from "../../../src/evidence/evidence-builder.js";
import { escapeHtml, renderEvidenceHtml } from "../../../src/evidence/evidence-html.js";
import { chain, credential, MIN, memoryDeps, T0, task } from "./evidence-fixtures.js";
import { incidentReport } from "./incident-fixture.js";

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

describe("evidence page as an audit artefact", () => {
  const section = (page: string, title: string): string => {
    const start = page.indexOf(`<h2>${title}</h2>`);
    expect(start, title).toBeGreaterThan(-1);
    return page.slice(start, page.indexOf("</section>", start));
  };
  const fact = (summary: string, term: string): string => {
    const start = summary.indexOf(`<dt>${term}</dt>`);
    expect(start, term).toBeGreaterThan(-1);
    return summary.slice(start, summary.indexOf("</dd>", start));
  };

  it("opens with a summary: task, initiator, agent, outcome, credentials, chain and checkpoint coverage", async () => {
    const page = renderEvidenceHtml(await incidentReport());
    expect(page.indexOf("<h2>Summary</h2>")).toBeLessThan(page.indexOf("<h2>Delegation chain</h2>"));
    const summary = section(page, "Summary");
    expect(fact(summary, "Task")).toContain("triage tickets");
    expect(fact(summary, "Initiator")).toContain("alice@example.com (verified by ID token)");
    expect(fact(summary, "Agent")).toContain('title="ci:planner"');
    expect(fact(summary, "Outcome")).toMatch(/>closed<\/span> \(revoked\) at <time /);
    expect(fact(summary, "Credentials")).toMatch(
      /2 issued: 1 <span[^>]*>revoked<\/span>, 1 <span[^>]*>expired<\/span>/,
    );
    expect(fact(summary, "Signed checkpoints")).toContain("6 of 8 events covered");
    expect(fact(summary, "Signed checkpoints")).toContain("2 events not yet covered</strong> (seq 7, 8)");
    expect(fact(summary, "Signed checkpoints")).toContain("credbroker audit seal");
  });

  it("the chain badge says valid, or INVALID when the chain does not verify", async () => {
    const report = await incidentReport();
    const chainFact = (r: typeof report) => fact(section(renderEvidenceHtml(r), "Summary"), "Audit chain");
    expect(chainFact(report)).toContain('<span class="badge ok">valid</span>');
    const broken = {
      ...report,
      chain: {
        ...report.chain,
        whole_chain: {
          valid: false as const,
          events: 4,
          checkpoints: 1,
          first_invalid: { seq: 5, reason: "prev_hash does not match" },
        },
      },
    };
    expect(chainFact(broken)).toContain('<span class="badge bad">INVALID</span>');
    expect(chainFact(broken)).toContain("first problem at seq 5");
    for (const r of [report, broken]) expect(chainFact(r)).not.toContain("evidenced");
  });

  it("keeps every timestamp on one line in a <time> element with the full value in title", async () => {
    const report = await incidentReport();
    const page = renderEvidenceHtml(report);
    expect(page).toMatch(/\.ts\{white-space:nowrap/);
    const times = [...page.matchAll(/<time class="ts" datetime="([^"]+)" title="([^"]+)">([^<]+)<\/time>/g)];
    expect(times.length).toBeGreaterThan(10);
    for (const [, datetime, title, shown] of times) {
      expect(title).toBe(datetime);
      expect(shown).toBe(datetime!.replace("T", " ").replace(/\.\d+Z$/, "Z"));
    }
    const outsideTimes = page.replace(/<time\b[^>]*>[^<]*<\/time>/g, "");
    expect(outsideTimes).not.toMatch(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d/);
    expect(page).toContain(`title="${report.credentials[0]!.issued_at}"`);
  });

  it("shortens ids on screen but keeps each full value in a title attribute", async () => {
    const report = await incidentReport();
    const page = renderEvidenceHtml(report);
    expect(page).toMatch(/\.id\{[^}]*text-overflow:ellipsis/);
    const full = [
      report.report.subject_task_id,
      ...report.credentials.map((c) => c.credential_id),
      report.credentials[0]!.policy_set_hash,
      ...report.timeline.map((e) => e.hash),
      report.chain.checkpoints.latest!.kid,
    ];
    for (const value of full) expect(page).toContain(`<code class="id" title="${value}">${value}</code>`);
  });

  it("prints without needing colour: an @media print block with page breaks and unsplit rows", async () => {
    const page = renderEvidenceHtml(await incidentReport());
    const print = /@media print\{([\s\S]*?)\n\}/.exec(page)?.[1] ?? "";
    expect(print).toContain(".badge{background:none;color:#000");
    expect(print).toContain("section+section{break-before:page}");
    expect(print).toContain("tr,dd,li{break-inside:avoid}");
    expect(print).toContain("thead{display:table-header-group}");
    expect(print).toMatch(/\.id\{display:inline;max-width:none/);
  });

  it("shows controls with their grade and rationale", async () => {
    const controls = section(renderEvidenceHtml(await incidentReport()), "Controls");
    expect(controls).toContain(
      '<td>NHI1</td><td>Improper Offboarding</td><td><span class="badge ok">evidenced</span></td>',
    );
    expect(controls).toContain('<span class="badge part">supports</span>');
    expect(controls).toContain("<th>Rationale</th>");
  });
});
