import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../support/broker-harness.js";
import { TEST_POLICY } from "../support/test-policy.js";

/** Per-principal quotas, attacked the way the abuse report did: open until refused, then check the answer. */

const POLICY = `${TEST_POLICY}
@id("writes-need-approval")
@approval("required")
forbid (principal, action == Credbroker::Action::"RequestCredential", resource)
when { context.scopes.contains("tickets:write") && !context.approved };
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    name: "quotas",
    policy: POLICY,
    config: {
      limits: {
        open_tasks_per_principal: 3,
        children_per_task: 2,
        credentials_per_task: 3,
        pending_approvals_per_requester: 2,
      },
    },
  });
});
afterAll(async () => h?.close());

const open = (token: string, body: Record<string, unknown> = {}) =>
  h.call("POST", "/v1/tasks", { token, body: { intent: "quota", ttl_seconds: 600, ...body } });

function expectQuota(
  res: { status: number; body: { error: { code: string; details: unknown } } },
  limit: string,
  max: number,
) {
  expect(res.status).toBe(429);
  expect(res.body.error.code).toBe("quota_exceeded");
  expect(res.body.error.details).toEqual({ limit, max });
}

describe("per-principal quotas", () => {
  it("open tasks: the fourth is refused with quota_exceeded naming the limit; closing one frees a place", async () => {
    const agent = await h.token("opener");
    const tasks = [];
    for (let i = 0; i < 3; i++) tasks.push((await open(agent)).body.task_id);
    expectQuota(await open(agent), "open_tasks_per_principal", 3);
    await h.call("POST", `/v1/tasks/${tasks[0]}/close`, { token: agent });
    expect((await open(agent)).status).toBe(201);
    const other = await h.token("someone-else");
    expect((await open(other)).status).toBe(201);
  });

  it("children per task and credentials per task", async () => {
    const agent = await h.token("delegator");
    const parent = (await open(agent, { ttl_seconds: 600 })).body.task_id;
    const child = (i: number) =>
      open(agent, { parent_task_id: parent, agent: `ci:sub${i}`, ttl_seconds: 60 });
    const children = [await child(1), await child(2)];
    for (const c of children) expect(c.status, c.text).toBe(201);
    expectQuota(await child(3), "children_per_task", 2);

    const issuer = await h.token("issuer-agent");
    const task = (await open(issuer)).body.task_id;
    const issue = () =>
      h.call("POST", `/v1/tasks/${task}/credentials`, { token: issuer, body: { profile: "tickets-api" } });
    for (let i = 0; i < 3; i++) expect((await issue()).status).toBe(201);
    expectQuota(await issue(), "credentials_per_task", 3);
  });

  it("pending approvals per requester, and every refusal is counted in the metrics", async () => {
    const agent = await h.token("asker");
    const task = (await open(agent)).body.task_id;
    const ask = () =>
      h.call("POST", `/v1/tasks/${task}/credentials`, {
        token: agent,
        body: { profile: "tickets-api", scopes: ["tickets:write"] },
      });
    expect((await ask()).status).toBe(202);
    expect((await ask()).status).toBe(202);
    expectQuota(await ask(), "pending_approvals_per_requester", 2);
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    for (const limit of [
      "open_tasks_per_principal",
      "children_per_task",
      "credentials_per_task",
      "pending_approvals_per_requester",
    ]) {
      expect(metrics).toMatch(new RegExp(`credbroker_quota_rejections_total\\{limit="${limit}"\\} [1-9]`));
    }
  });
});
