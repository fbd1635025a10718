import { describe, expect, it } from "vitest";
import { createEvidenceBuilder } from "../../../src/evidence/evidence-builder.js";
import type { ControlEntry, EvidenceReport } from "../../../src/evidence/evidence-types.js";
import { chain, credential, MIN, memoryDeps, T0, task } from "./evidence-fixtures.js";
import { HASH, incidentReport } from "./incident-fixture.js";

const controlsOf = (report: EvidenceReport): Map<string, ControlEntry> =>
  new Map(report.controls.flatMap((f) => f.controls.map((c) => [c.id, c])));

/** Each row: the control, the status this report earns it, and facts of the report its rationale must cite. */
const INCIDENT: [id: string, status: ControlEntry["status"], facts: string[]][] = [
  ["ASI01", "supports", ["2 tasks declared", "4 credential requests", "outside the broker's view"]],
  ["ASI02", "supports", ["(2)", "ci-reports, ci-tickets", "reports-api, tickets-api"]],
  ["ASI03", "supports", ["2 issued credentials", "ci:planner, ci:worker"]],
  ["ASI07", "supports", ["1 task came from broker delegation", "ci:planner"]],
  ["ASI08", "supports", ["1 descendant task closed with their parent"]],
  ["ASI09", "supports", ["1 approval recorded, 1 decided"]],
  ["ASI10", "supports", ["1 denied request", "1 emergency closure"]],
  ["NHI1", "evidenced", ["2 closed tasks", "1 revoked, 1 expired"]],
  ["NHI2", "supports", ["2 credentials lived at most 600 s"]],
  ["NHI3", "supports", ["https://tickets.internal, vault:reports", "signer, vault"]],
  ["NHI4", "supports", ["All 6 decisions", "alice@example.com verified by ID token"]],
  ["NHI5", "supports", ["reports:read, tickets:read", "reviewer's call"]],
  ["NHI7", "evidenced", ["(2)", "longest TTL is 600 s"]],
  ["NHI9", "evidenced", ["2 issued credentials", "ci:planner, ci:worker"]],
  ["NHI10", "supports", ["alice@example.com", "ci:planner"]],
  ["L2", "supports", ["ci-reports, ci-tickets"]],
  ["L5", "evidenced", ["8 cited events", "6 of them are pinned"]],
  ["L6", "evidenced", ["(6)", HASH.slice(0, 12)]],
  ["L7", "supports", ["1 task came from broker delegation"]],
  ["Cross-layer", "evidenced", ["1 emergency closure", "1 cascaded closure"]],
  ["GOVERN 1.4", "evidenced", ["(6)", HASH.slice(0, 12)]],
  ["GOVERN 1.5", "supports", ["8 events"]],
  ["GOVERN 1.7", "supports", ["2 closed tasks"]],
  ["GOVERN 3.2", "supports", ["1 approval recorded"]],
  ["MAP 3.5", "evidenced", ["1 decided by a named approver"]],
  ["MEASURE 2.7", "supports", ["8 cited events"]],
  ["MEASURE 2.8", "supports", ["(2)", "ci-reports, ci-tickets"]],
  ["MANAGE 2.4", "supports", ["1 emergency closure"]],
  ["MANAGE 4.1", "supports", ["1 denied request", "1 emergency closure"]],
];

describe("control grades of an incident report", () => {
  let report: EvidenceReport;
  const control = async (id: string): Promise<ControlEntry> => {
    report ??= await incidentReport();
    const entry = controlsOf(report).get(id);
    if (!entry) throw new Error(`no control ${id}`);
    return entry;
  };

  it.each(INCIDENT)("%s is %s, citing the report's facts", async (id, status, facts) => {
    const entry = await control(id);
    expect(entry).toMatchObject({ status, exercised: true });
    for (const fact of facts) expect(entry.rationale).toContain(fact);
    expect(entry.rationale).not.toMatch(/\n/);
  });

  it("lists exactly the graded mappings: none the broker cannot evidence", async () => {
    report ??= await incidentReport();
    expect([...controlsOf(report).keys()]).toEqual(INCIDENT.map(([id]) => id));
    for (const dropped of ["ASI04", "ASI05", "ASI06", "NHI6", "NHI8", "L1", "L3", "L4"]) {
      expect(controlsOf(report).has(dropped)).toBe(false);
    }
  });

  it("the kill switch row and the incident rows agree on the emergency closure", async () => {
    for (const id of ["Cross-layer", "ASI10", "MANAGE 2.4", "MANAGE 4.1"]) {
      expect((await control(id)).rationale).toContain("1 emergency closure");
    }
  });
});

describe("controls a report does not cover", () => {
  it("an open task with nothing issued covers no control but the review, and says why", async () => {
    const root = task({ id: "tsk_root" });
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root], credentials: [], events: [] }),
    ).build(root);
    for (const [id, entry] of controlsOf(report)) {
      if (id === "GOVERN 1.5") continue;
      expect([id, entry.status, entry.exercised]).toEqual([id, "not covered", false]);
      expect(entry.rationale.length).toBeGreaterThan(10);
    }
    expect(controlsOf(report).get("NHI7")?.rationale).toBe("No credential was issued in this task tree.");
  });

  it("a credential that outlived its closing task, past the deadline, is a failure the rationale names", async () => {
    const root = task({ id: "tsk_root", state: "closing", deadline: T0 + 5 * MIN });
    const failed = credential({ id: "crd_failed", taskId: "tsk_root", state: "revoke_failed" });
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root], credentials: [failed], events: [], now: T0 + MIN }),
    ).build(root);
    const controls = controlsOf(report);
    for (const id of ["NHI1", "NHI7"]) {
      expect(controls.get(id)).toMatchObject({ status: "not covered", exercised: true });
      expect(controls.get(id)?.rationale).toContain("crd_failed");
    }
  });

  it("a revocation still in flight in a closing tree is not claimed as a working kill switch", async () => {
    const root = task({ id: "tsk_root", state: "closing", closeReason: "revoked", closingAt: T0 + MIN });
    const revoking = credential({ id: "crd_revoking", taskId: "tsk_root", state: "revoking" });
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root], credentials: [revoking], events: [], now: T0 + 2 * MIN }),
    ).build(root);
    expect(controlsOf(report).get("Cross-layer")).toMatchObject({ status: "not covered", exercised: true });
    expect(controlsOf(report).get("Cross-layer")?.rationale).toContain("crd_revoking");
  });

  it("an approval no human has decided yet is no evidence of oversight", async () => {
    const root = task({ id: "tsk_root" });
    const details = { approval_id: "apr_1", profile: "tickets-api" };
    const events = chain([{ type: "approval.requested", actor: "ci:planner", task_id: "tsk_root", details }]);
    const report = await createEvidenceBuilder(memoryDeps({ tasks: [root], credentials: [], events })).build(
      root,
    );
    for (const id of ["MAP 3.5", "ASI09"]) {
      expect(controlsOf(report).get(id)).toMatchObject({ status: "not covered", exercised: false });
      expect(controlsOf(report).get(id)?.rationale).toBe("1 approval recorded, none decided by a human yet.");
    }
  });
});
