import { describe, expect, it } from "vitest";
import type { AuditEventInput, DecisionRead } from "../../../src/audit/audit-types.js";
import { createEvidenceBuilder } from "../../../src/evidence/evidence-builder.js";
import { verifyCited } from "../../../src/evidence/evidence-chain.js";
import { chain, checkpointAt, credential, MIN, memoryDeps, T0, task } from "./evidence-fixtures.js";

const HASH = "a".repeat(64);
const decision = (action: string, effect: "allow" | "deny" | "approval_required", ids: string[]) => ({
  action,
  effect,
  policy_ids: ids,
  policy_set_hash: HASH,
});

function delegatedTree() {
  const root = task({
    id: "tsk_root",
    state: "closed",
    closeReason: "closed",
    closedAt: T0 + 20 * MIN,
    related: ["ci:planner"],
  });
  const child = task({
    id: "tsk_child",
    parentId: "tsk_root",
    rootId: "tsk_root",
    depth: 1,
    agent: "ci:worker",
    state: "closed",
    closeReason: "parent_closed",
    closedAt: T0 + 20 * MIN,
    related: ["ci:planner", "ci:worker"],
    actChain: ["ci:planner"],
  });
  const other: AuditEventInput = { type: "task.opened", actor: "ci:else", task_id: "tsk_other" };
  const events = chain([
    {
      type: "decision",
      actor: "ci:planner",
      task_id: "tsk_root",
      decision: decision("OpenTask", "allow", ["ci-tasks"]),
    },
    {
      type: "task.opened",
      actor: "ci:planner",
      task_id: "tsk_root",
      details: { agent: "ci:planner", parent_task_id: null, deadline: T0 + 3_600_000, depth: 0 },
    },
    other,
    {
      type: "task.opened",
      actor: "ci:planner",
      task_id: "tsk_child",
      details: { agent: "ci:worker", parent_task_id: "tsk_root", deadline: T0 + 3_600_000, depth: 1 },
    },
    {
      type: "decision",
      actor: "ci:worker",
      task_id: "tsk_child",
      decision: decision("RequestCredential", "deny", ["no-blocked-agent"]),
    },
    { type: "credential.issued", actor: "ci:planner", task_id: "tsk_root", credential_id: "crd_1" },
    {
      type: "credential.revoked",
      actor: "system:worker",
      task_id: "tsk_root",
      credential_id: "crd_1",
      reason: "closed",
    },
  ]);
  const credentials = [
    credential({
      id: "crd_1",
      taskId: "tsk_root",
      state: "revoked",
      revokedAt: T0 + 20 * MIN,
      revokeReason: "closed",
    }),
    credential({
      id: "crd_2",
      taskId: "tsk_child",
      agent: "ci:worker",
      state: "expired",
      issuedAt: T0 + 5 * MIN,
      expiresAt: T0 + 6 * MIN,
      ttlSeconds: 60,
    }),
  ];
  return { root, child, events, credentials };
}

describe("evidence builder", () => {
  it("reports the delegation chain, decisions, credentials and timeline of a task tree", async () => {
    const { root, child, events, credentials } = delegatedTree();
    const builder = createEvidenceBuilder(memoryDeps({ tasks: [root, child], credentials, events }));
    const report = await builder.build(root, { at: T0 + 5 * MIN + 1 });

    expect(report.tasks.map((t) => [t.task_id, t.relation, t.agent])).toEqual([
      ["tsk_root", "subject", "ci:planner"],
      ["tsk_child", "descendant", "ci:worker"],
    ]);
    expect(report.tasks[0]?.children).toEqual(["tsk_child"]);
    expect(report.decisions.map((d) => [d.seq, d.action, d.effect])).toEqual([
      [1, "OpenTask", "allow"],
      [5, "RequestCredential", "deny"],
    ]);
    expect(report.timeline.map((e) => e.seq)).toEqual([1, 2, 4, 5, 6, 7]);
    expect(report.timeline[2]?.summary).toBe(
      "ci:planner delegated this task from tsk_root to agent ci:worker",
    );
    expect(
      report.credentials.map((c) => [c.credential_id, c.revocation.outcome, c.revocation.event_seq]),
    ).toEqual([
      ["crd_1", "revoked", 7],
      ["crd_2", "expired", null],
    ]);
    expect(report.valid_at?.credentials.map((c) => c.credential_id)).toEqual(["crd_1", "crd_2"]);
    expect(report.summary).toMatchObject({
      initiator: { subject: "alice@example.com", verified: true },
      agent_chain: ["ci:planner"],
      tasks: 2,
      decisions: { allow: 1, deny: 1, approval_required: 0 },
      credentials: { revoked: 1, expired: 1 },
    });
    expect(report.chain.whole_chain.valid).toBe(true);
    expect(report.chain.cited).toMatchObject({ valid: true, events: 6, links_checked: 4, problems: [] });
  });

  it("shows ancestors as facts only: a child's report holds none of the parent's credentials or events", async () => {
    const { root, child, events, credentials } = delegatedTree();
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root, child], credentials, events }),
    ).build(child);
    expect(report.tasks.map((t) => [t.task_id, t.relation])).toEqual([
      ["tsk_root", "ancestor"],
      ["tsk_child", "subject"],
    ]);
    expect(report.summary.agent_chain).toEqual(["ci:planner", "ci:worker"]);
    expect(report.credentials.map((c) => c.credential_id)).toEqual(["crd_2"]);
    expect(report.timeline.every((e) => e.task_id === "tsk_child")).toBe(true);
    expect(report.valid_at).toBeNull();
  });

  it("folds approval events into approvals, and has none when there are none", async () => {
    const { root, child, events, credentials } = delegatedTree();
    const none = await createEvidenceBuilder(memoryDeps({ tasks: [root, child], credentials, events })).build(
      root,
    );
    expect(none.approvals).toEqual([]);

    const on = (approval: string, extra: Record<string, string | null> = {}) => ({
      task_id: "tsk_root",
      details: { approval_id: approval, profile: "tickets-api", ...extra },
    });
    const withApprovals = chain([
      { type: "approval.requested", actor: "ci:planner", ...on("apr_1", { requester: "ci:planner" }) },
      {
        type: "approval.approved",
        actor: "ci:lead",
        ...on("apr_1", { approver: "ci:lead", comment: "ok <b>go</b>" }),
      },
      { type: "approval.requested", actor: "ci:planner", ...on("apr_2") },
      { type: "approval.redeemed", actor: "ci:planner", credential_id: "crd_1", ...on("apr_1") },
      { type: "approval.cancelled", actor: "system:broker", reason: "task_closed", ...on("apr_2") },
    ]);
    const issued = credential({ id: "crd_1", taskId: "tsk_root" });
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root], credentials: [issued], events: withApprovals }),
    ).build(root);
    expect(report.approvals).toEqual([
      {
        approval_id: "apr_1",
        task_id: "tsk_root",
        credential_id: "crd_1",
        profile: "tickets-api",
        outcome: "redeemed",
        requested: { by: "ci:planner", at: withApprovals[0]?.time, seq: 1 },
        decided: {
          by: "ci:lead",
          at: withApprovals[1]?.time,
          seq: 2,
          outcome: "approved",
          comment: "ok <b>go</b>",
        },
        ended: { by: "ci:planner", at: withApprovals[3]?.time, seq: 4, outcome: "redeemed", reason: null },
      },
      expect.objectContaining({
        approval_id: "apr_2",
        outcome: "cancelled",
        decided: null,
        ended: expect.objectContaining({ outcome: "cancelled", reason: "task_closed" }),
      }),
    ]);
    expect(report.credentials[0]?.approval_id).toBe("apr_1");
    expect(report.timeline[1]?.summary).toBe("ci:lead approved apr_1: “ok <b>go</b>”");
  });
});

describe("how tasks and credentials ended", () => {
  it("an ancestor's ending comes from its record; a credential the broker revoked on its own says so", async () => {
    const { root, child, events, credentials } = delegatedTree();
    const brokerRevoked = credential({
      id: "crd_3",
      taskId: "tsk_child",
      state: "revoked",
      revokedAt: T0 + 7 * MIN,
      revokeReason: "store_unavailable",
    });
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root, child], credentials: [...credentials, brokerRevoked], events }),
    ).build(child);
    expect(report.tasks[0]?.ending).toEqual({
      path: "close",
      at: new Date(T0 + 20 * MIN).toISOString(),
      by: null,
      seq: null,
      note: null,
      revocation: null,
    });
    expect(report.tasks[1]?.ending).toMatchObject({ path: "parent_closed", seq: null });
    const broker = report.credentials.find((c) => c.credential_id === "crd_3");
    expect(broker?.revocation).toMatchObject({
      path: "broker",
      reason: "store_unavailable",
      revocation_id: null,
      confirmation: null,
    });
  });
});

describe("reads of a task tree", () => {
  it("reads go to accessed_by, approval views and listings nowhere; decisions and timeline stay the task's own", async () => {
    const { root, child, events, credentials } = delegatedTree();
    const read = (actor: string, action: string, effect: "allow" | "deny", kind: DecisionRead) => ({
      type: "decision" as const,
      actor,
      task_id: "tsk_root",
      decision: decision(action, effect, []),
      details: { read: kind },
    });
    const withReads = chain([
      ...events.map(({ seq: _s, time: _t, prev_hash: _p, hash: _h, ...input }) => input as AuditEventInput),
      read("ci:auditor", "ReadAudit", "allow", "evidence"),
      read("ci:outsider", "ReadAudit", "deny", "evidence"),
      read("ci:planner", "ReadTask", "allow", "task"),
      read("ci:approver", "Approve", "deny", "approval"),
      {
        type: "approvals.listed",
        actor: "ci:approver",
        task_id: "tsk_root",
        details: { returned: 0, examined: 1 },
      },
    ]);
    const plain = await createEvidenceBuilder(
      memoryDeps({ tasks: [root, child], credentials, events }),
    ).build(root);
    const read3 = await createEvidenceBuilder(
      memoryDeps({ tasks: [root, child], credentials, events: withReads }),
    ).build(root);
    expect(read3.decisions).toEqual(plain.decisions);
    expect(read3.timeline).toEqual(plain.timeline);
    expect(read3.controls).toEqual(plain.controls);
    expect(read3.summary).toEqual(plain.summary);
    expect(read3.accessed_by.map((a) => [a.seq, a.actor, a.read, a.action, a.effect])).toEqual([
      [8, "ci:auditor", "evidence", "ReadAudit", "allow"],
      [9, "ci:outsider", "evidence", "ReadAudit", "deny"],
      [10, "ci:planner", "task", "ReadTask", "allow"],
    ]);
  });
});

describe("cited-event verification", () => {
  it("names an edited event and a broken link between consecutive cited events", () => {
    const events = chain([
      { type: "task.opened", actor: "ci:a", task_id: "tsk_x" },
      { type: "task.closing", actor: "ci:a", task_id: "tsk_x" },
      { type: "task.closed", actor: "ci:a", task_id: "tsk_x" },
    ]);
    const edited = events.map((e) => (e.seq === 2 ? { ...e, actor: "ci:mallory" } : e));
    expect(verifyCited(edited).problems).toEqual([
      { seq: 2, reason: "hash does not match the event's content: the event was edited" },
    ]);
    const relinked = events.map((e) => (e.seq === 3 ? { ...e, prev_hash: "f".repeat(64) } : e));
    const result = verifyCited(relinked);
    expect(result.valid).toBe(false);
    expect(result.problems.map((p) => p.seq)).toEqual([3, 3]);
  });

  it("reports a tampered chain in the whole-chain result", async () => {
    const { root, child, events, credentials } = delegatedTree();
    const tampered = events.map((e) => (e.seq === 3 ? { ...e, actor: "ci:mallory" } : e));
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root, child], credentials, events: tampered }),
    ).build(root);
    expect(report.chain.cited.valid).toBe(true);
    expect(report.chain.whole_chain).toMatchObject({ valid: false, first_invalid: { seq: 3 } });
    const l5 = report.controls
      .find((f) => f.framework === "csa_maestro")
      ?.controls.find((c) => c.id === "L5");
    expect(l5).toMatchObject({ status: "not covered", exercised: true });
    expect(l5?.rationale).toContain("verification failed");
  });
});

describe("signed-checkpoint coverage", () => {
  it("names exactly the cited events a signed checkpoint covers and those it does not yet", async () => {
    const { root, child, events, credentials } = delegatedTree();
    const checkpoints = [checkpointAt(events[1]!), checkpointAt(events[3]!)];
    const report = await createEvidenceBuilder(
      memoryDeps({ tasks: [root, child], credentials, events, checkpoints }),
    ).build(root);
    expect(report.chain.checkpoints).toMatchObject({
      covered_through_seq: 4,
      covered_events: 3,
      uncovered_events: 3,
      uncovered_seqs: [5, 6, 7],
      latest: { seq: 4, hash: events[3]!.hash, kid: "kid-test", signature_valid: true },
    });
    expect(report.chain.checkpoints.verify_offline).toContain("credbroker audit verify --file");
  });

  it("covers nothing before the first checkpoint, or when the checkpoint's signature fails", async () => {
    const { root, child, events, credentials } = delegatedTree();
    const unsigned = await createEvidenceBuilder(
      memoryDeps({ tasks: [root, child], credentials, events }),
    ).build(root);
    expect(unsigned.chain.checkpoints).toMatchObject({
      covered_through_seq: null,
      covered_events: 0,
      uncovered_seqs: [1, 2, 4, 5, 6, 7],
      latest: null,
    });
    const forged = await createEvidenceBuilder(
      memoryDeps({
        tasks: [root, child],
        credentials,
        events,
        checkpoints: [checkpointAt(events.at(-1)!)],
        signaturesHold: false,
      }),
    ).build(root);
    expect(forged.chain.checkpoints).toMatchObject({
      covered_through_seq: null,
      uncovered_events: 6,
      latest: { seq: 7, signature_valid: false },
    });
  });
});
