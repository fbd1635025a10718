import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";

let h: Harness;
let agent: string;

beforeAll(async () => {
  h = await startHarness({ name: "tasks" });
  agent = await h.token("summariser");
});
afterAll(async () => h?.close());

const openTask = async (token: string, body: Record<string, unknown> = {}) =>
  h.call("POST", "/v1/tasks", {
    token,
    body: {
      intent: "Summarise Q3 incidents",
      ttl_seconds: 600,
      initiator: { subject: "alice@example.com" },
      ...body,
    },
  });

const issue = (token: string, taskId: string, body: Record<string, unknown> = {}) =>
  h.call("POST", `/v1/tasks/${taskId}/credentials`, {
    token,
    body: { profile: "tickets-api", scopes: ["tickets:read"], ...body },
  });

describe("tasks", () => {
  it("opening a task returns the task object of the API contract", async () => {
    const res = await openTask(agent, { labels: { ticket: "INC-42" }, profiles: ["tickets-api"] });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    const task = res.body;
    expect(task.task_id).toMatch(/^tsk_/);
    expect(task).toMatchObject({
      state: "open",
      owner: "ci:summariser",
      agent: "ci:summariser",
      initiator: { subject: "alice@example.com", verified: false },
      intent: "Summarise Q3 incidents",
      labels: { ticket: "INC-42" },
      parent_task_id: null,
      depth: 0,
      profiles: ["tickets-api"],
      closed_at: null,
      close_reason: null,
      credentials: [],
      children: [],
    });
    const lifetime = Date.parse(task.deadline) - Date.parse(task.created_at);
    expect(lifetime).toBe(600_000);
  });

  it("a verified initiator token marks the initiator verified", async () => {
    const idToken = await h.token("alice@example.com");
    const res = await openTask(agent, { initiator: { subject: "alice@example.com", token: idToken } });
    expect(res.status).toBe(201);
    expect(res.body.initiator).toEqual({ subject: "alice@example.com", verified: true });
    const wrong = await openTask(agent, { initiator: { subject: "mallory@example.com", token: idToken } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe("invalid_request");
  });

  it("another principal gets 404 for a task it has no relation to, never 403", async () => {
    const task = (await openTask(agent)).body;
    const stranger = await h.token("stranger");
    for (const [method, route] of [
      ["GET", `/v1/tasks/${task.task_id}`],
      ["POST", `/v1/tasks/${task.task_id}/close`],
      ["POST", `/v1/tasks/${task.task_id}/credentials`],
    ] as const) {
      const body = route.endsWith("/credentials") ? { profile: "tickets-api" } : undefined;
      const res = await h.call(method, route, { token: stranger, body });
      expect(res.status, route).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    const missing = await h.call("GET", "/v1/tasks/tsk_doesnotexist00000", { token: agent });
    expect(missing.status).toBe(404);
  });

  it("the owner who opened a task for another agent can read and close it; only the agent gets credentials", async () => {
    const orchestrator = await h.token("orchestrator");
    const task = (await openTask(orchestrator, { agent: "ci:summariser" })).body;
    expect(task.owner).toBe("ci:orchestrator");
    expect((await h.call("GET", `/v1/tasks/${task.task_id}`, { token: orchestrator })).status).toBe(200);
    const byOwner = await issue(orchestrator, task.task_id);
    expect(byOwner.status).toBe(403);
    const byAgent = await issue(agent, task.task_id);
    expect(byAgent.status).toBe(201);
    const closed = await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: orchestrator });
    expect(closed.status).toBe(202);
  });

  it("policy denial answers 403 policy_denied with the deciding policy ids", async () => {
    const blocked = await h.token("blocked");
    const res = await openTask(blocked);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("policy_denied");
    expect(res.body.error.details.policies).toEqual(["no-blocked-agent"]);
  });

  it("closing a task revokes its credentials and ends closed; closing again returns it unchanged", async () => {
    const task = (await openTask(agent)).body;
    const creds = [];
    for (let i = 0; i < 3; i++) creds.push((await issue(agent, task.task_id)).body);
    for (const cred of creds) {
      const active = await h.call("POST", "/v1/introspect", {
        token: agent,
        body: { token: cred.secret.token },
      });
      expect(active.body.active).toBe(true);
    }
    const close = await h.call("POST", `/v1/tasks/${task.task_id}/close`, {
      token: agent,
      body: { reason: "done" },
    });
    expect(close.status).toBe(202);
    expect(["closing", "closed"]).toContain(close.body.state);
    const closed = await waitFor(
      async () => {
        const res = await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent });
        return res.body.state === "closed" ? res.body : null;
      },
      5_000,
      "task closed",
    );
    expect(closed.close_reason).toBe("closed");
    expect(closed.credentials.map((c: { state: string }) => c.state)).toEqual([
      "revoked",
      "revoked",
      "revoked",
    ]);
    for (const cred of creds) {
      const res = await h.call("POST", "/v1/introspect", {
        token: agent,
        body: { token: cred.secret.token },
      });
      expect(res.body).toEqual({ active: false });
    }
    const again = await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(closed);
    const late = await issue(agent, task.task_id);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("task_not_open");
  });
});

describe("delegation", () => {
  it("a child task can only shrink: profiles, deadline and depth", async () => {
    const parent = (await openTask(agent, { profiles: ["tickets-api"], ttl_seconds: 300 })).body;
    const child = await openTask(agent, {
      parent_task_id: parent.task_id,
      agent: "ci:sub-agent",
      ttl_seconds: 100,
    });
    expect(child.status).toBe(201);
    expect(child.body).toMatchObject({
      parent_task_id: parent.task_id,
      depth: 1,
      profiles: ["tickets-api"],
      agent: "ci:sub-agent",
    });
    expect(child.body.initiator).toEqual(parent.initiator);

    const moreProfiles = await openTask(agent, {
      parent_task_id: parent.task_id,
      profiles: ["tickets-api", "reports-api"],
      ttl_seconds: 100,
    });
    expect(moreProfiles.status).toBe(422);
    expect(moreProfiles.body.error.code).toBe("scope_not_allowed");
    const longer = await openTask(agent, { parent_task_id: parent.task_id, ttl_seconds: 10_000 });
    expect(longer.status).toBe(422);
    expect(longer.body.error.code).toBe("ttl_out_of_range");

    const stranger = await h.token("stranger");
    const notRelated = await openTask(stranger, { parent_task_id: parent.task_id });
    expect(notRelated.status).toBe(404);
    const subAgent = await h.token("sub-agent");
    const grandchild = await openTask(subAgent, { parent_task_id: child.body.task_id, ttl_seconds: 50 });
    expect(grandchild.status).toBe(201);
    expect(grandchild.body.depth).toBe(2);
    const parentView = await h.call("GET", `/v1/tasks/${parent.task_id}`, { token: agent });
    expect(parentView.body.children).toEqual([child.body.task_id]);
    // The parent's agent, as an ancestor, may read the grandchild.
    expect((await h.call("GET", `/v1/tasks/${grandchild.body.task_id}`, { token: agent })).status).toBe(200);
  });

  it("delegation deeper than the limit is refused", async () => {
    const deep = await startHarness({
      name: "depth",
      config: { limits: { max_delegation_depth: 1 } },
      issuer: h.issuer,
    });
    try {
      const token = await deep.token("summariser");
      const open = (body: Record<string, unknown>) =>
        deep.call("POST", "/v1/tasks", { token, body: { intent: "x", ttl_seconds: 60, ...body } });
      const root = (await open({})).body;
      const child = (await open({ parent_task_id: root.task_id, ttl_seconds: 30 })).body;
      expect(child.depth).toBe(1);
      const tooDeep = await open({ parent_task_id: child.task_id, ttl_seconds: 10 });
      expect(tooDeep.status).toBe(403);
      expect(tooDeep.body.error.code).toBe("policy_denied");
    } finally {
      await deep.close();
    }
  });

  it("closing a parent closes the whole tree and revokes every credential in it", async () => {
    const parent = (await openTask(agent)).body;
    const child = (
      await openTask(agent, { parent_task_id: parent.task_id, agent: "ci:sub-agent", ttl_seconds: 300 })
    ).body;
    const subAgent = await h.token("sub-agent");
    const childCred = await issue(subAgent, child.task_id);
    expect(childCred.status).toBe(201);
    const claims = JSON.parse(Buffer.from(childCred.body.secret.token.split(".")[1], "base64url").toString());
    expect(claims.act).toEqual({ sub: "ci:summariser" });
    await h.call("POST", `/v1/tasks/${parent.task_id}/close`, { token: agent });
    const closedChild = await waitFor(
      async () => {
        const res = await h.call("GET", `/v1/tasks/${child.task_id}`, { token: subAgent });
        return res.body.state === "closed" ? res.body : null;
      },
      5_000,
      "child closed",
    );
    expect(closedChild.close_reason).toBe("parent_closed");
    expect(closedChild.credentials[0].state).toBe("revoked");
  });
});
