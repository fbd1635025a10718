import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taskKeys } from "../../src/tasks/task-keys.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import {
  type RedisGroup,
  redisServerMissing,
  type SentinelRedis,
  startCluster,
  startSentinel,
  startStandalone,
} from "../support/redis-servers.js";
import { TEST_POLICY_WITH_APPROVALS } from "../support/test-policy.js";

/*
 * The whole broker (api + worker) on each Redis topology it supports, against redis-server processes this
 * file starts on loopback ports: a standalone server, a master with a replica behind one Sentinel, and a
 * Cluster of three masters. On a Cluster every multi-key step must stay in one slot, so these journeys
 * cover each store's multi-key writes and reads.
 */

const missing = redisServerMissing();
if (missing) console.warn(`skipping the Redis topology tests: ${missing}`);

/** The test policy plus an approval rule, so approvals are written on every topology too. */
const POLICY = TEST_POLICY_WITH_APPROVALS;

interface Topology {
  name: string;
  /** Whether the broker must have opened an ioredis Cluster client. */
  cluster: boolean;
  start(): Promise<{ group: RedisGroup; redis: Record<string, unknown> }>;
}

const topologies: Topology[] = [
  {
    name: "a standalone server",
    cluster: false,
    async start() {
      const group = await startStandalone();
      return { group, redis: { url: group.url } };
    },
  },
  {
    name: "Sentinel (a master, a replica, one Sentinel)",
    cluster: false,
    async start() {
      const group = await startSentinel();
      return { group, redis: { sentinel: group.sentinel } };
    },
  },
  {
    name: "Cluster (3 masters)",
    cluster: true,
    async start() {
      const group = await startCluster(3);
      return { group, redis: { cluster: { nodes: group.nodes } } };
    },
  },
];

/** API steps of the agent journey against one broker. */
function journeySteps(h: Harness) {
  const tokens = new Map<string, string>();
  const token = async (sub: string) => {
    const cached = tokens.get(sub);
    if (cached) return cached;
    const minted = await h.token(sub);
    tokens.set(sub, minted);
    return minted;
  };
  return {
    token,
    async openTask(agent: string, ttlSeconds = 600) {
      const res = await h.call("POST", "/v1/tasks", {
        token: await token(agent),
        body: {
          intent: "topology journey",
          ttl_seconds: ttlSeconds,
          initiator: { subject: "alice@example.com" },
        },
      });
      expect(res.status, res.text).toBe(201);
      return res.body as { task_id: string; deadline: string };
    },
    async issue(agent: string, taskId: string, scopes: string[] = ["tickets:read"]) {
      return h.call("POST", `/v1/tasks/${taskId}/credentials`, {
        token: await token(agent),
        body: { profile: "tickets-api", ttl_seconds: 120, scopes, reason: "topology journey" },
      });
    },
    async introspect(jwt: string) {
      return (
        await h.call("POST", "/v1/introspect", { token: await token("summariser"), body: { token: jwt } })
      ).body;
    },
    async taskIn(agent: string, taskId: string, state: string, timeoutMs = 10_000) {
      const agentToken = await token(agent);
      return waitFor(
        async () => {
          const task = (await h.call("GET", `/v1/tasks/${taskId}`, { token: agentToken })).body;
          return task?.state === state ? task : null;
        },
        timeoutMs,
        `task ${taskId} ${state}`,
      );
    },
  };
}

for (const topology of topologies) {
  describe.skipIf(missing !== null)(`the broker on ${topology.name}`, () => {
    let group: RedisGroup | undefined;
    let h: Harness | undefined;
    let steps: ReturnType<typeof journeySteps>;

    beforeAll(async () => {
      const started = await topology.start();
      group = started.group;
      h = await startHarness({ name: "topology", policy: POLICY, redis: started.redis });
      steps = journeySteps(h);
    }, 40_000);

    afterAll(async () => {
      try {
        await h?.close();
      } finally {
        await group?.stop();
      }
    }, 20_000);

    it("an agent's credential is active until its task closes, then revoked, and the audit chain verifies", async () => {
      expect(h!.broker.redis.isCluster).toBe(topology.cluster);
      const task = await steps.openTask("summariser");
      const issued = await steps.issue("summariser", task.task_id);
      expect(issued.status, issued.text).toBe(201);
      const jwt: string = issued.body.secret.token;
      expect(await steps.introspect(jwt)).toMatchObject({ active: true, task_id: task.task_id });

      const closing = await h!.call("POST", `/v1/tasks/${task.task_id}/close`, {
        token: await steps.token("summariser"),
        body: {},
      });
      expect(closing.status).toBe(202);
      const closed = await steps.taskIn("summariser", task.task_id, "closed");
      expect(closed.credentials[0].state).toBe("revoked");
      expect(await steps.introspect(jwt)).toEqual({ active: false });

      const operator = await steps.token("operator");
      const listed = await h!.call("GET", "/v1/admin/tasks", { token: operator });
      expect(listed.body.tasks.map((t: { task_id: string }) => t.task_id)).toContain(task.task_id);
      const verified = (await h!.call("GET", "/v1/audit/verify", { token: operator })).body;
      expect(verified, JSON.stringify(verified)).toMatchObject({ valid: true });
    });

    it("emergency revocation closes every task of an agent across slots and revokes their credentials", async () => {
      const tasks = [await steps.openTask("compromised"), await steps.openTask("compromised")];
      const jwts: string[] = [];
      for (const task of tasks) {
        const issued = await steps.issue("compromised", task.task_id);
        expect(issued.status, issued.text).toBe(201);
        jwts.push(issued.body.secret.token);
      }
      const operator = await steps.token("operator");
      const started = await h!.call("POST", "/v1/admin/revocations", {
        token: operator,
        body: { selector: { agent: "ci:compromised" }, reason: "key leaked" },
      });
      expect(started.status, started.text).toBe(202);
      expect(started.body).toMatchObject({ tasks: 2, credentials: 2 });
      const done = await waitFor(
        async () => {
          const status = await h!.call("GET", `/v1/admin/revocations/${started.body.revocation_id}`, {
            token: operator,
          });
          return status.body.state === "completed" ? status.body : null;
        },
        10_000,
        "revocation completed",
      );
      expect(done.progress).toMatchObject({ revoked: 2, revoking: 0, revoke_failed: 0 });
      for (const jwt of jwts) expect(await steps.introspect(jwt)).toEqual({ active: false });
    });

    it("a task is closed at its deadline and its credential revoked", async () => {
      const task = await steps.openTask("summariser", 2);
      const issued = await steps.issue("summariser", task.task_id);
      expect(issued.status, issued.text).toBe(201);
      const closed = await steps.taskIn("summariser", task.task_id, "closed");
      expect(closed.close_reason).toBe("deadline");
      expect(await steps.introspect(issued.body.secret.token)).toEqual({ active: false });
    });

    it("an approval-bound request waits for a human, then yields its credential", async () => {
      const task = await steps.openTask("summariser");
      const pending = await steps.issue("summariser", task.task_id, ["tickets:write"]);
      expect(pending.status, pending.text).toBe(202);
      const id: string = pending.body.approval_id;
      const approved = await h!.call("POST", `/v1/approvals/${id}/approve`, {
        token: await steps.token("approver-alice"),
        body: { comment: "fine" },
      });
      expect(approved.status, approved.text).toBe(200);
      const redeemed = await h!.call("GET", `/v1/approvals/${id}`, {
        token: await steps.token("summariser"),
      });
      expect(redeemed.body.credential?.secret.token).toBeTypeOf("string");
    });

    if (topology.name.startsWith("Sentinel")) {
      it("keeps working after a Sentinel failover promotes the replica", async () => {
        const sentinel = group as SentinelRedis;
        const before = await sentinel.masterPort();
        const after = await sentinel.failover();
        expect(after).not.toBe(before);
        const agent = await steps.token("summariser");
        // Until the broker hears of the switch, its writes still reach the old master (and are lost with it).
        const task = await waitFor(
          async () => {
            const res = await h!.call("POST", "/v1/tasks", {
              token: agent,
              body: { intent: "after failover", ttl_seconds: 600 },
            });
            if (res.status !== 201) return null;
            const taskId: string = res.body.task_id;
            return (await sentinel.holds(after, taskKeys(h!.prefix).task(taskId)))
              ? { task_id: taskId }
              : null;
          },
          15_000,
          "the broker to write to the new master",
        );
        const issued = await steps.issue("summariser", task.task_id);
        expect(issued.status, issued.text).toBe(201);
        await h!.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent, body: {} });
        await steps.taskIn("summariser", task.task_id, "closed");
        expect(await steps.introspect(issued.body.secret.token)).toEqual({ active: false });
      }, 30_000);
    }
  });
}
