import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taskKeys } from "../../src/tasks/task-keys.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { countCommands } from "../support/redis-commands.js";
import { redisServerMissing, type StandaloneRedis, startStandalone } from "../support/redis-servers.js";

/**
 * `GET /v1/admin/tasks` counts each task's credentials per state from counters the credential scripts keep,
 * so a page costs the same whatever the number of credentials per task. On a redis-server of its own, so
 * INFO commandstats counts only this broker.
 */

const missing = redisServerMissing();
let server: StandaloneRedis;
let h: Harness;
let redis: Redis;
let agent: string;
let operator: string;

beforeAll(async () => {
  if (missing) return;
  server = await startStandalone();
  h = await startHarness({ name: "adminlist", redis: { url: server.url } });
  redis = new Redis(server.url);
  agent = await h.token("lister");
  operator = await h.token("operator");
}, 60_000);

afterAll(async () => {
  if (missing) return;
  redis?.disconnect();
  await h?.close();
  await server?.stop();
});

async function openWithCredentials(count: number): Promise<string> {
  const task = await h.call("POST", "/v1/tasks", {
    token: agent,
    body: { intent: "listing", ttl_seconds: 600 },
  });
  expect(task.status, task.text).toBe(201);
  for (let i = 0; i < count; i++) {
    const cred = await h.call("POST", `/v1/tasks/${task.body.task_id}/credentials`, {
      token: agent,
      body: { profile: "tickets-api" },
    });
    expect(cred.status, cred.text).toBe(201);
  }
  return task.body.task_id;
}

/** The newest task (the one just opened), and how many commands Redis ran to answer the listing. */
async function listNewest(): Promise<{ task: Record<string, unknown>; commands: number }> {
  const { value: res, commands } = await countCommands(redis, () =>
    h.call("GET", "/v1/admin/tasks?limit=1", { token: operator }),
  );
  expect(res.status, res.text).toBe(200);
  return { task: res.body.tasks[0], commands };
}

describe.skipIf(missing)("admin task listing", () => {
  it("counts credentials per state as they change, without listing them", async () => {
    const taskId = await openWithCredentials(3);
    const listed = (await listNewest()).task;
    expect(listed).toMatchObject({ task_id: taskId, state: "open" });
    expect(listed).not.toHaveProperty("credentials");
    expect(listed.credential_counts).toEqual({
      live: 3,
      revoking: 0,
      revoked: 0,
      expired: 0,
      revoke_failed: 0,
      failed: 0,
      resolved: 0,
      total: 3,
    });
    expect((await h.call("POST", `/v1/tasks/${taskId}/close`, { token: agent, body: {} })).status).toBe(202);
    await waitFor(
      async () => (await h.call("GET", `/v1/tasks/${taskId}`, { token: agent })).body.state === "closed",
      8_000,
      "task closed",
    );
    expect((await listNewest()).task.credential_counts).toMatchObject({ live: 0, revoked: 3, total: 3 });
  });

  it("a task recorded before the counts existed is counted from its credentials", async () => {
    const taskId = await openWithCredentials(2);
    await redis.hdel(taskKeys(h.prefix).task(taskId), "n_live");
    expect((await listNewest()).task.credential_counts).toMatchObject({ live: 2, total: 2 });
  });

  it("a page costs the same Redis commands at 1 and at 30 credentials per task", {
    timeout: 60_000,
  }, async () => {
    await openWithCredentials(1);
    await listNewest();
    const small = (await listNewest()).commands;
    await openWithCredentials(30);
    await listNewest();
    const big = await listNewest();
    expect(big.task.credential_counts).toMatchObject({ live: 30, total: 30 });
    // The listing's audit and rate-limit writes vary by a command or two with batching; credentials never.
    expect(Math.abs(big.commands - small)).toBeLessThanOrEqual(3);
  });
});
