import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";

const POLICY = `
@id("ci-tasks")
permit (principal, action in [Credbroker::Action::"OpenTask", Credbroker::Action::"CloseTask", Credbroker::Action::"ReadTask"], resource)
when { principal.issuer == "ci" };

@id("ci-tickets")
@max_ttl("600")
permit (principal, action == Credbroker::Action::"RequestCredential", resource == Credbroker::Profile::"tickets-api")
when { principal.issuer == "ci" };

@id("write-needs-approval")
@approval("required")
forbid (principal, action == Credbroker::Action::"RequestCredential", resource)
when { context.scopes.contains("tickets:write") && !context.approved };

@id("no-write-for-bulk")
forbid (principal, action == Credbroker::Action::"RequestCredential", resource)
when { context.scopes.contains("tickets:write") && context.reason == "bulk delete" };

@id("approvers")
permit (principal, action == Credbroker::Action::"Approve", resource)
when { principal.subject like "approver*" };

@id("operator")
permit (principal == Credbroker::Workload::"ci:operator", action == Credbroker::Action::"ReadAudit", resource);

@id("ci-introspect-own-tokens")
permit (principal, action == Credbroker::Action::"Introspect", resource)
when { principal.issuer == "ci" && context.caller_is_agent };
`;

const WEBHOOK_SECRET = Buffer.alloc(32, 9);
let h: Harness;
let hook: Server;
const deliveries: { body: string; signature: string }[] = [];
/** The first delivery of each approval is answered 500, so every announcement exercises the retry. */
const seen = new Set<string>();
let agent: string;
let approver: string;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => resolve(body));
  });
}

beforeAll(async () => {
  hook = createServer(async (req, res) => {
    const body = await readBody(req);
    deliveries.push({ body, signature: String(req.headers["x-credbroker-signature"]) });
    const id = String(JSON.parse(body).approval_id);
    res.statusCode = seen.has(id) ? 204 : 500;
    seen.add(id);
    res.end();
  });
  await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
  const port = (hook.address() as AddressInfo).port;
  h = await startHarness({
    name: "approvals",
    policy: POLICY,
    config: { approvals: { ttl_seconds: 600, webhook: { url: `http://127.0.0.1:${port}/hook` } } },
    env: { CREDBROKER_APPROVAL_WEBHOOK_SECRET: WEBHOOK_SECRET.toString("base64") },
  });
  agent = await h.token("summariser");
  approver = await h.token("approver-alice");
});
afterAll(async () => {
  await h?.close();
  hook?.close();
});

async function openTask(token = agent) {
  return (await h.call("POST", "/v1/tasks", { token, body: { intent: "approvals", ttl_seconds: 600 } })).body;
}

async function requestWrite(taskId: string, token = agent, extra: Record<string, unknown> = {}) {
  return h.call("POST", `/v1/tasks/${taskId}/credentials`, {
    token,
    body: {
      profile: "tickets-api",
      scopes: ["tickets:write"],
      ttl_seconds: 120,
      reason: "close duplicates",
      ...extra,
    },
  });
}

const getApproval = (id: string, token: string) => h.call("GET", `/v1/approvals/${id}`, { token });
const decide = (id: string, outcome: "approve" | "deny", token: string, comment = "looks fine") =>
  h.call("POST", `/v1/approvals/${id}/${outcome}`, { token, body: { comment } });

describe("approvals (the copilot pattern)", () => {
  it("a request stopped only by an approval policy waits for a human, then yields its credential exactly once", async () => {
    const task = await openTask();
    const pending = await requestWrite(task.task_id);
    expect(pending.status).toBe(202);
    expect(pending.body).toMatchObject({ state: "pending" });
    expect(pending.body.approval_id).toMatch(/^apr_/);
    const id = pending.body.approval_id;
    expect((await getApproval(id, agent)).body).toMatchObject({ state: "pending", credential_issued: false });
    expect((await getApproval(id, agent)).body.credential).toBeUndefined();

    const listed = await h.call("GET", "/v1/approvals?state=pending", { token: approver });
    expect(listed.body.approvals.map((a: { approval_id: string }) => a.approval_id)).toContain(id);
    const approved = await decide(id, "approve", approver, "ticket INC-42 is a duplicate");
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      state: "approved",
      decided_by: "ci:approver-alice",
      comment: "ticket INC-42 is a duplicate",
    });
    expect(approved.body.credential).toBeUndefined();

    const redeemed = await getApproval(id, agent);
    expect(redeemed.status).toBe(200);
    expect(redeemed.headers.get("cache-control")).toBe("no-store");
    expect(redeemed.body).toMatchObject({
      state: "approved",
      credential: { profile: "tickets-api", ttl_seconds: 120, scopes: ["tickets:write"] },
    });
    const token = redeemed.body.credential.secret.token;
    const introspected = await h.call("POST", "/v1/introspect", { token: agent, body: { token } });
    expect(introspected.body).toMatchObject({ active: true, scope: "tickets:write" });

    const again = await getApproval(id, agent);
    expect(again.body.credential).toBeUndefined();
    expect(again.body).toMatchObject({
      state: "approved",
      credential_issued: true,
      credential_id: redeemed.body.credential.credential_id,
    });
    const view = await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent });
    expect(view.body.credentials).toHaveLength(1);

    const events = (
      await h.call("GET", `/v1/audit?task_id=${task.task_id}`, { token: await h.token("operator") })
    ).body.events;
    const types = events.map((e: { type: string }) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        "approval.requested",
        "approval.approved",
        "approval.redeemed",
        "credential.issued",
      ]),
    );
    const redeemDecision = events
      .filter((e: { decision: { action: string } | null }) => e.decision?.action === "RequestCredential")
      .at(-1);
    expect(redeemDecision.decision.effect).toBe("allow");
  });

  it("the requester can never approve its own request, even when the policy would let it approve", async () => {
    const selfApprover = await h.token("approver-bob");
    const task = await openTask(selfApprover);
    const id = (await requestWrite(task.task_id, selfApprover)).body.approval_id;
    const res = await decide(id, "approve", selfApprover);
    expect(res.status).toBe(403);
    expect(res.body.error.details.rule).toBe("no_self_approval");
    expect((await getApproval(id, selfApprover)).body.state).toBe("pending");
  });

  it("principals the policy does not allow cannot see or decide an approval", async () => {
    const task = await openTask();
    const id = (await requestWrite(task.task_id)).body.approval_id;
    const stranger = await h.token("stranger");
    expect((await getApproval(id, stranger)).status).toBe(404);
    expect((await decide(id, "approve", stranger)).status).toBe(403);
  });

  it("a denied request yields no credential", async () => {
    const task = await openTask();
    const id = (await requestWrite(task.task_id)).body.approval_id;
    expect((await decide(id, "deny", approver, "not today")).body.state).toBe("denied");
    const view = await getApproval(id, agent);
    expect(view.body).toMatchObject({ state: "denied", comment: "not today" });
    expect(view.body.credential).toBeUndefined();
    expect((await decide(id, "approve", approver)).status).toBe(409);
  });

  it("another forbid matching as well keeps the request a hard deny", async () => {
    const task = await openTask();
    const res = await requestWrite(task.task_id, agent, { reason: "bulk delete" });
    expect(res.status).toBe(403);
    expect(res.body.error.details.policies).toEqual(expect.arrayContaining(["no-write-for-bulk"]));
  });

  it("closing the task cancels its approvals, and approving afterwards is refused", async () => {
    const task = await openTask();
    const id = (await requestWrite(task.task_id)).body.approval_id;
    await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    expect((await getApproval(id, agent)).body).toMatchObject({ state: "cancelled", note: "task_closed" });
    const res = await decide(id, "approve", approver);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("approval_not_pending");
  });

  it("an approval whose request was altered after approval is refused at redemption", async () => {
    const task = await openTask();
    const id = (await requestWrite(task.task_id)).body.approval_id;
    await decide(id, "approve", approver);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      await redis.hset(`${h.prefix}:apr:{${task.task_id}}:${id}`, "ttl_seconds", "600");
    } finally {
      redis.disconnect();
    }
    const res = await getApproval(id, agent);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: "approval_not_pending",
      details: { reason: "request_altered" },
    });
    const view = await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent });
    expect(view.body.credentials).toEqual([]);
  });

  it("approvals expire", async () => {
    const quick = await startHarness({
      name: "approvals-expiry",
      policy: POLICY,
      issuer: h.issuer,
      config: { approvals: { ttl_seconds: 1 } },
    });
    try {
      const token = await quick.token("summariser");
      const task = (await quick.call("POST", "/v1/tasks", { token, body: { intent: "x", ttl_seconds: 60 } }))
        .body;
      const id = (
        await quick.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
          token,
          body: { profile: "tickets-api", scopes: ["tickets:write"] },
        })
      ).body.approval_id;
      const expired = await waitFor(
        async () => {
          const res = await quick.call("GET", `/v1/approvals/${id}`, { token });
          return res.body.state === "expired" ? res.body : null;
        },
        5_000,
        "expiry",
      );
      expect(expired.credential).toBeUndefined();
      const late = await quick.call("POST", `/v1/approvals/${id}/approve`, {
        token: await quick.token("approver-carol"),
        body: {},
      });
      expect(late.status).toBe(409);
    } finally {
      await quick.close();
    }
  });

  it("a new approval is announced to the webhook with a verifiable signature, retried until delivered", async () => {
    const task = await openTask();
    const id = (await requestWrite(task.task_id)).body.approval_id;
    const delivered = await waitFor(
      async () => {
        const ok = deliveries.filter((d) => d.body.includes(id));
        return ok.length >= 2 ? ok : null;
      },
      10_000,
      "webhook retried",
    );
    const { body, signature } = delivered.at(-1)!;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
    expect(v1).toBe(createHmac("sha256", WEBHOOK_SECRET).update(`${t}.${body}`).digest("hex"));
    expect(JSON.parse(body)).toMatchObject({
      type: "approval.requested",
      approval_id: id,
      task_id: task.task_id,
      scopes: ["tickets:write"],
    });
    expect(body).not.toContain("eyJ");
  });
});
