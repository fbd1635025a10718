import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportShapeProblem } from "../../src/evidence/evidence-schema.js";
import type { EvidenceReport } from "../../src/evidence/evidence-types.js";
import { expectApiError } from "../support/api-errors.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { TEST_POLICY_WITH_APPROVALS } from "../support/test-policy.js";

const EVIL_INTENT = `<script>alert("evidence")</script> triage tickets`;

/** The usual test policy, plus the copilot pattern: writing tickets needs a human approver. */
const POLICY = TEST_POLICY_WITH_APPROVALS;

let h: Harness;
let planner: string;
let worker: string;
let operator: string;
let outsider: string;

/** A delegated task whose two credentials lived at different times: one expired, one revoked by close. */
interface Scenario {
  rootId: string;
  childId: string;
  /** Signer credential of the root task (planner), revoked when the root closed. */
  revokedId: string;
  /** Signer credential of the child task (worker), issued later with a 2 s TTL, expired. */
  expiredId: string;
  report: EvidenceReport;
}
let scenario: Scenario;

const evidence = (taskId: string, token: string, query = "", headers: Record<string, string> = {}) =>
  h.call("GET", `/v1/tasks/${taskId}/evidence${query}`, { token, headers });

async function report(taskId: string, token = planner, query = ""): Promise<EvidenceReport> {
  const res = await evidence(taskId, token, query);
  expect(res.status, res.text).toBe(200);
  expect(reportShapeProblem(res.body), "the report parses with the schema the CLI uses").toBeNull();
  return res.body as EvidenceReport;
}

const ms = (iso: string | null | undefined): number => {
  if (!iso) throw new Error("expected a time");
  return Date.parse(iso);
};

async function issue(taskId: string, token: string, body: Record<string, unknown>): Promise<string> {
  const res = await h.call("POST", `/v1/tasks/${taskId}/credentials`, { token, body });
  expect(res.status, res.text).toBe(201);
  return res.body.credential_id;
}

async function buildScenario(): Promise<Scenario> {
  const root = await h.call("POST", "/v1/tasks", {
    token: planner,
    body: { intent: EVIL_INTENT, ttl_seconds: 600, initiator: { subject: "alice@example.com" } },
  });
  expect(root.status, root.text).toBe(201);
  const rootId: string = root.body.task_id;
  const child = await h.call("POST", "/v1/tasks", {
    token: planner,
    body: { intent: "summarise open tickets", ttl_seconds: 300, parent_task_id: rootId, agent: "ci:worker" },
  });
  expect(child.status, child.text).toBe(201);
  const childId: string = child.body.task_id;

  const revokedId = await issue(rootId, planner, { profile: "tickets-api", scopes: ["tickets:read"] });
  const firstIssued = Date.now();
  await waitFor(async () => Date.now() > firstIssued + 20, 1_000, "a later issue time");
  const expiredId = await issue(childId, worker, { profile: "reports-api", ttl_seconds: 2 });
  const expiring = await report(rootId);
  const expiresAt = ms(expiring.credentials.find((c) => c.credential_id === expiredId)?.expires_at);
  await waitFor(async () => Date.now() > expiresAt + 50, 5_000, "the child credential to expire");

  const closed = await h.call("POST", `/v1/tasks/${rootId}/close`, {
    token: planner,
    body: { reason: "done" },
  });
  expect(closed.status, closed.text).toBe(202);
  const settled = await waitFor(
    async () => {
      const r = await report(rootId);
      const done = r.tasks.every((t) => t.state === "closed");
      return done && r.chain.checkpoints.covered_events > 0 ? r : null;
    },
    10_000,
    "the tree to close and a checkpoint to be signed",
  );
  return { rootId, childId, revokedId, expiredId, report: settled };
}

beforeAll(async () => {
  h = await startHarness({
    name: "evidence",
    policy: POLICY,
    config: { audit: { checkpoint_interval_seconds: 0.2, checkpoint_every_events: 5 } },
  });
  planner = await h.token("planner");
  worker = await h.token("worker");
  operator = await h.token("operator");
  outsider = await h.token("outsider");
  scenario = await buildScenario();
});
afterAll(async () => h?.close());

describe("evidence report of a delegated task", () => {
  it("shows the delegation chain, decisions with policy ids, and each credential's life", () => {
    const r = scenario.report;
    expect(r.report).toMatchObject({
      kind: "credbroker.evidence",
      subject_task_id: scenario.rootId,
      at: null,
    });
    expect(r.tasks.map((t) => [t.task_id, t.relation, t.owner, t.agent, t.depth])).toEqual([
      [scenario.rootId, "subject", "ci:planner", "ci:planner", 0],
      [scenario.childId, "descendant", "ci:planner", "ci:worker", 1],
    ]);
    expect(r.tasks[0]).toMatchObject({ intent: EVIL_INTENT, initiator: { subject: "alice@example.com" } });
    expect(r.tasks[1]).toMatchObject({ parent_task_id: scenario.rootId, close_reason: "parent_closed" });

    const issues = r.decisions.filter((d) => d.action === "RequestCredential");
    expect(issues).toHaveLength(2);
    for (const d of issues) {
      expect(d).toMatchObject({ effect: "allow", policy_ids: ["ci-tickets"] });
      expect(d.policy_set_hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(r.decisions.map((d) => d.action)).toEqual(expect.arrayContaining(["OpenTask", "DelegateTask"]));

    const byId = new Map(r.credentials.map((c) => [c.credential_id, c]));
    expect(byId.get(scenario.revokedId)).toMatchObject({
      provider: "signer",
      profile: "tickets-api",
      downstream_account: expect.any(String),
      state: "revoked",
      policy_ids: ["ci-tickets"],
      revocation: { outcome: "revoked", reason: "closed", last_error: null },
    });
    expect(byId.get(scenario.revokedId)?.valid_until).toBe(byId.get(scenario.revokedId)?.revoked_at);
    expect(byId.get(scenario.expiredId)).toMatchObject({
      agent: "ci:worker",
      state: "expired",
      revoked_at: null,
      revocation: { outcome: "expired" },
    });

    const seqs = r.timeline.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(r.timeline.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        "task.opened",
        "decision",
        "credential.issued",
        "credential.revoked",
        "task.closed",
      ]),
    );
    expect(r.approvals).toEqual([]);
    expect(r.chain.cited).toMatchObject({ valid: true, problems: [] });
    expect(r.chain.whole_chain.valid).toBe(true);
  });

  it("says how the task and each credential ended: the close with its note, the cascade, revoked or expired", () => {
    const r = scenario.report;
    const closing = r.timeline.find((e) => e.type === "task.closing" && e.task_id === scenario.rootId);
    expect(r.tasks[0]?.ending).toEqual({
      path: "close",
      at: closing?.time,
      by: "ci:planner",
      seq: closing?.seq,
      note: "done",
      revocation: null,
    });
    expect(closing?.summary).toBe("ci:planner began closing the task (closed): “done”");
    // The cascade, or the reconciler's orphan repair when it gets there first.
    expect(r.tasks[1]?.ending).toMatchObject({
      path: "parent_closed",
      by: expect.stringMatching(/^(ci:planner|system:worker)$/),
      note: null,
    });
    const byId = new Map(r.credentials.map((c) => [c.credential_id, c]));
    expect(byId.get(scenario.revokedId)?.revocation).toMatchObject({
      path: "close",
      revocation_id: null,
      requested: { by: "ci:planner" },
      settled: { event: "revoked", by: "system:worker" },
    });
    expect(byId.get(scenario.expiredId)?.revocation).toMatchObject({
      path: null,
      requested: null,
      settled: { event: "expired" },
    });
  });

  it("answers which credentials were valid at each instant", async () => {
    const byId = new Map(scenario.report.credentials.map((c) => [c.credential_id, c]));
    const first = byId.get(scenario.revokedId)!;
    const second = byId.get(scenario.expiredId)!;
    const [t1, t2, exp2, revoked] = [
      ms(first.issued_at),
      ms(second.issued_at),
      ms(second.expires_at),
      ms(first.revoked_at),
    ];
    expect(t1 < t2 && t2 < exp2 && exp2 < revoked).toBe(true);
    const instants: [string, number, string[]][] = [
      ["before any issue", t1 - 1_000, []],
      ["at the first issue", t1, [scenario.revokedId]],
      ["between the two issues", Math.floor((t1 + t2) / 2), [scenario.revokedId]],
      ["while both lived", Math.floor((t2 + exp2) / 2), [scenario.revokedId, scenario.expiredId]],
      ["after the child credential expired", Math.floor((exp2 + revoked) / 2), [scenario.revokedId]],
      ["at the revocation", revoked, []],
      ["after the revocation", revoked + 1_000, []],
    ];
    for (const [when, at, expected] of instants) {
      const iso = new Date(at).toISOString();
      const r = await report(scenario.rootId, planner, `?at=${encodeURIComponent(iso)}`);
      expect(r.valid_at?.at, when).toBe(iso);
      expect(r.valid_at?.credentials.map((c) => c.credential_id).sort(), when).toEqual([...expected].sort());
    }
  });

  it("accepts an RFC 3339 time with an offset", async () => {
    const r = await report(
      scenario.rootId,
      planner,
      `?at=${encodeURIComponent("2020-01-01T01:00:00+01:00")}`,
    );
    expect(r.valid_at).toMatchObject({ at: "2020-01-01T00:00:00.000Z", credentials: [] });
  });

  it("maps the evidence to the four frameworks", () => {
    const frameworks = scenario.report.controls;
    expect(frameworks.map((f) => f.framework)).toEqual([
      "owasp_agentic_top10_2026",
      "owasp_nhi_top10_2025",
      "csa_maestro",
      "nist_ai_rmf_1_0",
    ]);
    const status = new Map(frameworks.flatMap((f) => f.controls.map((c) => [c.id, c.status])));
    expect(status.get("ASI07")).toBe("supports");
    expect(status.get("ASI08")).toBe("supports");
    expect(status.get("NHI1")).toBe("evidenced");
    expect(status.get("L5")).toBe("evidenced");
    expect(status.get("ASI05")).toBeUndefined();
  });

  it("renders a self-contained HTML page that escapes what agents wrote", async () => {
    const res = await evidence(scenario.rootId, planner, "", { accept: "text/html" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("vary")).toMatch(/accept/i);
    expect(res.text).toContain(scenario.rootId);
    expect(res.text).toContain("&lt;script&gt;alert(&quot;evidence&quot;)&lt;/script&gt;");
    expect(res.text).not.toMatch(/<script/i);
    expect(res.text).not.toMatch(/<(link|img|iframe)\b/i);
  });

  it("answers JSON when the client prefers it or says nothing", async () => {
    for (const accept of ["application/json", "*/*", "application/json, text/html;q=0.5"]) {
      const res = await evidence(scenario.rootId, planner, "", { accept });
      expect(res.headers.get("content-type"), accept).toMatch(/^application\/json/);
    }
  });
});

/** A report without the parts that may differ between reads: when it was made, and who read it. */
const reproducible = (r: EvidenceReport) => {
  const { accessed_by: _reads, report: meta, ...rest } = r;
  return { ...rest, report: { ...meta, generated_at: "(any)" } };
};

describe("an emergency-revoked task", () => {
  it("names the revocation, its selector, reason and operator on the task, its child and every credential", async () => {
    const rootId = (
      await h.call("POST", "/v1/tasks", { token: planner, body: { intent: "revoke me", ttl_seconds: 600 } })
    ).body.task_id;
    const childId = (
      await h.call("POST", "/v1/tasks", {
        token: planner,
        body: { intent: "child", ttl_seconds: 300, parent_task_id: rootId, agent: "ci:worker" },
      })
    ).body.task_id;
    const rootCredential = await issue(rootId, planner, { profile: "tickets-api" });
    const childCredential = await issue(childId, worker, { profile: "reports-api" });
    const started = await h.call("POST", "/v1/admin/revocations", {
      token: operator,
      body: { selector: { task_id: rootId }, reason: "suspected prompt injection" },
    });
    expect(started.status, started.text).toBe(202);
    const revocationId: string = started.body.revocation_id;
    const r = await waitFor(
      async () => {
        const read = await report(rootId, operator);
        return read.tasks.every((t) => t.state === "closed") ? read : null;
      },
      10_000,
      "the revoked tree to close",
    );
    const revocation = {
      revocation_id: revocationId,
      selector: { task_id: rootId },
      reason: "suspected prompt injection",
      operator: "ci:operator",
      started_seq: expect.any(Number),
    };
    expect(r.tasks.map((t) => t.ending)).toEqual([
      expect.objectContaining({
        path: "emergency",
        by: "ci:operator",
        note: "suspected prompt injection",
        revocation,
      }),
      expect.objectContaining({ path: "parent_closed", by: "ci:operator", revocation }),
    ]);
    const ends = r.credentials.map((c) => [c.credential_id, c.revocation.path, c.revocation.revocation_id]);
    expect(ends).toEqual([
      [rootCredential, "emergency", revocationId],
      [childCredential, "parent_closed", revocationId],
    ]);
    for (const c of r.credentials) {
      expect(c.revocation).toMatchObject({ requested: { by: "ci:operator" }, settled: { event: "revoked" } });
    }
    const closing = r.timeline.find((e) => e.type === "task.closing" && e.task_id === rootId);
    expect(closing?.summary).toContain(revocationId);
    const page = (await evidence(rootId, operator, "", { accept: "text/html" })).text;
    expect(page).toContain("ended by emergency");
    expect(page).toContain(`title="${revocationId}"`);
    expect(page).toContain("suspected prompt injection");
    expect(page).toMatch(/via emergency/);
    expect(page).toContain("Accessed by");
    const childReport = await report(childId, operator);
    expect(childReport.tasks.find((t) => t.task_id === rootId)?.ending).toMatchObject({
      path: "emergency",
      by: null,
      revocation: null,
    });
  });
});

describe("reading a report does not change it", () => {
  it("a closed task's report read three times is identical apart from generated_at and accessed_by", async () => {
    await waitFor(
      async () => {
        const { checkpoints } = (await report(scenario.rootId)).chain;
        return checkpoints.latest !== null && checkpoints.uncovered_events === 0;
      },
      10_000,
      "a checkpoint that signs every event of the tree",
    );
    const first = await report(scenario.rootId, planner);
    const second = await report(scenario.rootId, operator);
    const third = await report(scenario.rootId, planner);
    expect(reproducible(second)).toEqual(reproducible(first));
    expect(reproducible(third)).toEqual(reproducible(first));
    expect(third.decisions).toHaveLength(first.decisions.length);
    expect(third.decisions.some((d) => d.action === "ReadTask" || d.action === "ReadAudit")).toBe(false);
    expect(third.accessed_by.slice(-2)).toEqual([
      expect.objectContaining({
        actor: "ci:operator",
        read: "evidence",
        action: "ReadAudit",
        effect: "allow",
      }),
      expect.objectContaining({ actor: "ci:planner", read: "evidence", action: "ReadTask", effect: "allow" }),
    ]);
    expect(third.accessed_by.length).toBe(first.accessed_by.length + 2);
  });

  it("an unrelated principal's denied read is listed as an access, never as a decision or attempt of the task", async () => {
    const before = await report(scenario.rootId, operator);
    expectApiError(await evidence(scenario.rootId, outsider), 404, "not_found");
    const after = await report(scenario.rootId, operator);
    expect(reproducible(after)).toEqual(reproducible(before));
    expect(after.decisions.some((d) => d.actor === "ci:outsider")).toBe(false);
    expect(after.summary.decisions.deny).toBe(0);
    const asi10 = after.controls.flatMap((f) => f.controls).find((c) => c.id === "ASI10");
    expect(asi10?.rationale).not.toMatch(/[1-9]\d* denied attempt/);
    expect(after.accessed_by).toContainEqual(
      expect.objectContaining({
        actor: "ci:outsider",
        read: "evidence",
        action: "ReadAudit",
        effect: "deny",
      }),
    );
  });
});

describe("approvals in the evidence", () => {
  it("shows who approved a credential, when, with what comment, and which credential it yielded", async () => {
    const approver = await h.token("approver-bob");
    const opened = await h.call("POST", "/v1/tasks", {
      token: planner,
      body: { intent: "edit", ttl_seconds: 300 },
    });
    const taskId: string = opened.body.task_id;
    const held = await h.call("POST", `/v1/tasks/${taskId}/credentials`, {
      token: planner,
      body: { profile: "tickets-api", scopes: ["tickets:write"], reason: "close duplicates" },
    });
    expect(held.status, held.text).toBe(202);
    const approvalId: string = held.body.approval_id;
    const approved = await h.call("POST", `/v1/approvals/${approvalId}/approve`, {
      token: approver,
      body: { comment: "INC-7 <is> a duplicate" },
    });
    expect(approved.status, approved.text).toBe(200);
    const redeemed = await h.call("GET", `/v1/approvals/${approvalId}`, { token: planner });
    const credentialId: string = redeemed.body.credential.credential_id;

    const r = await report(taskId);
    expect(r.approvals).toEqual([
      expect.objectContaining({
        approval_id: approvalId,
        credential_id: credentialId,
        outcome: "redeemed",
        requested: expect.objectContaining({ by: "ci:planner" }),
        decided: expect.objectContaining({
          by: "ci:approver-bob",
          outcome: "approved",
          comment: "INC-7 <is> a duplicate",
        }),
      }),
    ]);
    expect(r.credentials).toEqual([
      expect.objectContaining({ credential_id: credentialId, approval_id: approvalId }),
    ]);
    expect(
      r.decisions.filter((d) => d.action === "RequestCredential").map((d) => [d.effect, d.policy_ids]),
    ).toEqual([
      ["approval_required", ["write-needs-approval"]],
      ["allow", ["ci-tickets"]],
    ]);
    // Approvers looking at or listing requests, and others peeking at the approval, are not the task's doing.
    const outsiderView = await h.call("GET", `/v1/approvals/${approvalId}`, { token: outsider });
    expect(outsiderView.status).toBe(404);
    await h.call("GET", `/v1/approvals/${approvalId}`, { token: approver });
    expect((await h.call("GET", "/v1/approvals", { token: approver })).status).toBe(200);
    const later = await report(taskId);
    expect(later.timeline).toEqual(r.timeline);
    expect(later.decisions).toEqual(r.decisions);
    expect(later.decisions.filter((d) => d.action === "Approve").map((d) => [d.actor, d.effect])).toEqual([
      ["ci:approver-bob", "allow"],
    ]);
    expect(later.timeline.some((e) => e.type === "approvals.listed")).toBe(false);
    const controls = r.controls.flatMap((f) => f.controls);
    expect(controls.find((c) => c.id === "ASI09")?.status).toBe("supports");
    expect(controls.find((c) => c.id === "MAP 3.5")?.status).toBe("evidenced");
    const page = await evidence(taskId, planner, "", { accept: "text/html" });
    expect(page.text).toContain("INC-7 &lt;is&gt; a duplicate");
  });
});

describe("who may read it", () => {
  it("the child's agent sees its task with the parent as the chain above, but not the parent's report", async () => {
    const r = await report(scenario.childId, worker);
    expect(r.tasks.map((t) => [t.task_id, t.relation])).toEqual([
      [scenario.rootId, "ancestor"],
      [scenario.childId, "subject"],
    ]);
    expect(r.credentials.map((c) => c.credential_id)).toEqual([scenario.expiredId]);
    expect(r.timeline.every((e) => e.task_id === scenario.childId)).toBe(true);
    expectApiError(await evidence(scenario.rootId, worker), 404, "not_found");
  });

  it("an unrelated principal gets 404, the same as for a task that does not exist", async () => {
    const hidden = expectApiError(await evidence(scenario.rootId, outsider), 404, "not_found");
    const missing = expectApiError(await evidence("tsk_doesnotexist0000", outsider), 404, "not_found");
    expect(hidden).toEqual(missing);
  });

  it("an operator the policy allows ReadAudit reads any task's report", async () => {
    const r = await report(scenario.rootId, operator);
    expect(r.report.subject_task_id).toBe(scenario.rootId);
    expect(r.credentials).toHaveLength(2);
  });

  it("a time that is not RFC 3339 is 400 invalid_request", async () => {
    for (const at of [
      "yesterday",
      "2026-01-01",
      "2026-01-01T10:00:00",
      "2026-02-30T10:00:00Z",
      "1700000000",
    ]) {
      expectApiError(
        await evidence(scenario.rootId, planner, `?at=${encodeURIComponent(at)}`),
        400,
        "invalid_request",
      );
    }
    expectApiError(
      await evidence(scenario.rootId, planner, "?since=2026-01-01T00:00:00Z"),
      400,
      "invalid_request",
    );
  });
});
