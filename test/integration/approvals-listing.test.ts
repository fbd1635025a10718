import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../support/broker-harness.js";

/**
 * `GET /v1/approvals` under abuse: a flood of approvals the caller may not decide neither buries a real one
 * nor writes one audit event per item; pages follow a real cursor.
 */

const POLICY = `
@id("ci-tasks")
permit (principal, action in [Credbroker::Action::"OpenTask", Credbroker::Action::"CloseTask", Credbroker::Action::"ReadTask"], resource)
when { principal.issuer == "ci" };

@id("ci-credentials")
permit (principal, action == Credbroker::Action::"RequestCredential", resource)
when { principal.issuer == "ci" };

@id("everything-needs-approval")
@approval("required")
forbid (principal, action == Credbroker::Action::"RequestCredential", resource)
unless { context.approved };

@id("ticket-approvers")
permit (principal, action == Credbroker::Action::"Approve", resource == Credbroker::Profile::"tickets-api")
when { principal.subject like "approver*" };

@id("auditor")
permit (principal == Credbroker::Workload::"ci:auditor", action == Credbroker::Action::"ReadAudit", resource);
`;

let h: Harness;
let approver: string;

beforeAll(async () => {
  h = await startHarness({
    name: "approvallist",
    policy: POLICY,
    config: { limits: { requests_per_minute: 10_000, pending_approvals_per_requester: 1_000 } },
  });
  approver = await h.token("approver-1");
}, 30_000);
afterAll(async () => h?.close());

async function requestApprovals(sub: string, profile: string, count: number): Promise<string[]> {
  const agent = await h.token(sub);
  const task = await h.call("POST", "/v1/tasks", {
    token: agent,
    body: { intent: "flood", ttl_seconds: 3_000 },
  });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await h.call("POST", `/v1/tasks/${task.body.task_id}/credentials`, {
      token: agent,
      body: { profile, reason: `r${i}` },
    });
    expect(res.status, res.text).toBe(202);
    ids.push(res.body.approval_id);
  }
  return ids;
}

const auditCount = async () => {
  const auditor = await h.token("auditor");
  return (await h.call("GET", "/v1/audit?limit=1000", { token: auditor })).body.events.length as number;
};

describe("listing approvals", () => {
  it("a flood the approver may not decide neither hides the real request nor writes an event per item", async () => {
    await requestApprovals("flooder", "reports-api", 120);
    const [real] = await requestApprovals("honest-agent", "tickets-api", 1);
    const before = await auditCount();
    const page = await h.call("GET", "/v1/approvals", { token: approver });
    expect(page.status).toBe(200);
    expect(page.body.approvals.map((a: { approval_id: string }) => a.approval_id)).toEqual([real]);
    expect(page.body.next_cursor).toBeNull();

    const nobody = await h.token("nobody");
    const empty = await h.call("GET", "/v1/approvals?limit=500", { token: nobody });
    expect(empty.body.approvals).toEqual([]);
    // Two listings (plus the auditor's own read decision): one event each, not one per pending approval.
    const written = (await auditCount()) - before;
    expect(written).toBeLessThanOrEqual(4);
  });

  it("pages follow a real cursor: every decidable approval once, in order, then null", async () => {
    const mine = await requestApprovals("paged-agent", "tickets-api", 5);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 20; guard++) {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const page = await h.call("GET", `/v1/approvals${query}`, { token: approver });
      expect(page.status).toBe(200);
      seen.push(...page.body.approvals.map((a: { approval_id: string }) => a.approval_id));
      cursor = page.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen.filter((id) => mine.includes(id))).toEqual(mine);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("a cursor it did not hand out is a 400 naming the cursor", async () => {
    const res = await h.call("GET", "/v1/approvals?cursor=bm90LWEtY3Vyc29y", { token: approver });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.message).toMatch(/cursor/);
  });
});
