import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { credentialKeys } from "../../src/credentials/credential-keys.js";
import { createCredentialStore } from "../../src/credentials/credential-store.js";
import { taskKeys } from "../../src/tasks/task-keys.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { pendingCredential } from "../support/credential-fixture.js";
import { type Faults, newFaults, withFaults } from "../support/faulty-provider.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";

let h: Harness;
let agent: string;
let operator: string;
const faults: Faults = newFaults();

beforeAll(async () => {
  h = await startHarness({ name: "revocation", decorateProviders: withFaults(faults) });
  agent = await h.token("summariser");
  operator = await h.token("operator");
});
afterAll(async () => h?.close());
beforeEach(() => Object.assign(faults, newFaults()));

async function openTask(ttlSeconds = 600, extra: Record<string, unknown> = {}, token = agent) {
  const res = await h.call("POST", "/v1/tasks", {
    token,
    body: { intent: "revocation test", ttl_seconds: ttlSeconds, ...extra },
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function issue(taskId: string, token = agent, profile = "tickets-api") {
  const res = await h.call("POST", `/v1/tasks/${taskId}/credentials`, { token, body: { profile } });
  expect(res.status).toBe(201);
  return res.body;
}

const getTask = async (taskId: string, token = agent) =>
  (await h.call("GET", `/v1/tasks/${taskId}`, { token })).body;
/** As the operator, whom the test policy lets introspect every token, whoever's agent it was issued to. */
const introspect = async (jwt: string) =>
  (await h.call("POST", "/v1/introspect", { token: operator, body: { token: jwt } })).body;

const waitForState = (taskId: string, state: string, timeoutMs = 8_000, token = agent) =>
  waitFor(
    async () => {
      const task = await getTask(taskId, token);
      return task.state === state ? task : null;
    },
    timeoutMs,
    `task ${state}`,
  );

describe("deadlines", () => {
  it("a task past its deadline is closed and its credentials revoked", async () => {
    const task = await openTask(2);
    const cred = await issue(task.task_id);
    expect(Date.parse(cred.expires_at)).toBeLessThanOrEqual(Date.parse(task.deadline));
    const closed = await waitForState(task.task_id, "closed");
    expect(closed.close_reason).toBe("deadline");
    expect(Date.parse(closed.closed_at)).toBeGreaterThanOrEqual(Date.parse(task.deadline));
    expect(["revoked", "expired"]).toContain(closed.credentials[0].state);
    expect(await introspect(cred.secret.token)).toEqual({ active: false });
  });

  it("the reconciler still closes a task at its deadline after the queue's keys are wiped", async () => {
    const task = await openTask(2);
    const cred = await issue(task.task_id);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const keys = await redis.keys(`${h.prefix}:{bull}:*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.unlink(...keys);
      expect(await redis.keys(`${h.prefix}:{bull}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    const closed = await waitForState(task.task_id, "closed", 10_000);
    expect(closed.close_reason).toBe("deadline");
    expect(await introspect(cred.secret.token)).toEqual({ active: false });
  });
});

describe("reconciler repairs", () => {
  it("a task left closing outside the closing index (crash mid-close) is still closed and revoked", async () => {
    const task = await openTask();
    const cred = await issue(task.task_id);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const { BEGIN_CLOSE_SCRIPT } = await import("../../src/tasks/task-scripts.js");
      await redis.eval(
        BEGIN_CLOSE_SCRIPT,
        1,
        taskKeys(h.prefix).task(task.task_id),
        "closed",
        String(Date.now()),
      );
      expect(await redis.zscore(taskKeys(h.prefix).open, task.task_id)).not.toBeNull();
    } finally {
      redis.disconnect();
    }
    const closed = await waitForState(task.task_id, "closed", 8_000);
    expect(closed.credentials[0].state).toBe("revoked");
    expect(await introspect(cred.secret.token)).toEqual({ active: false });
  });

  it("a task recorded without the unsettled counter (older records) still closes only once all are revoked", async () => {
    const task = await openTask();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      await redis.hdel(taskKeys(h.prefix).task(task.task_id), "unsettled");
    } finally {
      redis.disconnect();
    }
    await issue(task.task_id);
    await issue(task.task_id);
    faults.failRevokes = 1;
    await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    const closed = await waitForState(task.task_id, "closed");
    expect(closed.credentials.map((c: { state: string }) => c.state)).toEqual(["revoked", "revoked"]);
  });

  it("hundreds of stale index entries do not stop the reconciler from expiring a real credential", async () => {
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const stale = Array.from({ length: 600 }, (_, i) => [
        0,
        `crd_stale${String(i).padStart(12, "0")}`,
      ]).flat();
      await redis.zadd(credentialKeys(h.prefix).active, ...stale);
      const task = await openTask();
      const res = await h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
        token: agent,
        body: { profile: "tickets-api", ttl_seconds: 1 },
      });
      expect(res.status).toBe(201);
      const state = await waitFor(
        async () => {
          const value = await redis.hget(
            credentialKeys(h.prefix).credential(task.task_id, res.body.credential_id),
            "state",
          );
          return value === "expired" ? value : null;
        },
        8_000,
        "credential expired by the reconciler",
      );
      expect(state).toBe("expired");
      expect(await redis.zcard(credentialKeys(h.prefix).active)).toBeLessThan(600);
    } finally {
      redis.disconnect();
    }
  });
});

describe("failed revocations", () => {
  it("transient upstream failures are retried with backoff until the credential is revoked", async () => {
    const task = await openTask();
    await issue(task.task_id);
    faults.failRevokes = 2;
    await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    const closed = await waitForState(task.task_id, "closed");
    expect(closed.credentials[0].state).toBe("revoked");
    expect(faults.revokeCalls).toBe(3);
  });

  it("a permanent failure lands in revoke_failed, is listed and counted, and an operator retry finishes it", async () => {
    const task = await openTask();
    const cred = await issue(task.task_id);
    faults.permanentRevokeFailure = true;
    await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    const failed = await waitFor(
      async () => {
        const view = await getTask(task.task_id);
        return view.credentials[0].state === "revoke_failed" ? view : null;
      },
      5_000,
      "revoke_failed",
    );
    expect(failed.state).toBe("closing");
    expect(failed.credentials[0].last_error).toContain("access denied");

    const listed = await h.call("GET", "/v1/admin/credentials?state=revoke_failed", { token: operator });
    expect(listed.status).toBe(200);
    expect(listed.body.credentials.map((c: { credential_id: string }) => c.credential_id)).toContain(
      cred.credential_id,
    );
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^credbroker_revoke_failed [1-9]/m);

    faults.permanentRevokeFailure = false;
    const retry = await h.call("POST", `/v1/admin/credentials/${cred.credential_id}/retry`, {
      token: operator,
    });
    expect(retry.status).toBe(202);
    const closed = await waitForState(task.task_id, "closed");
    expect(closed.credentials[0].state).toBe("revoked");
    expect(await introspect(cred.secret.token)).toEqual({ active: false });
  });

  it("exhausting every retry on transient failures also ends in revoke_failed", async () => {
    const task = await openTask();
    await issue(task.task_id);
    faults.failRevokes = 100;
    await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    const view = await waitFor(
      async () => {
        const t = await getTask(task.task_id);
        return t.credentials[0].state === "revoke_failed" ? t : null;
      },
      5_000,
      "revoke_failed",
    );
    expect(view.credentials[0].last_error).toContain("timeout");
    expect(faults.revokeCalls).toBe(3);
  });

  it("only an operator may retry, and only a credential in revoke_failed", async () => {
    const task = await openTask();
    const cred = await issue(task.task_id);
    expect(
      (await h.call("POST", `/v1/admin/credentials/${cred.credential_id}/retry`, { token: agent })).status,
    ).toBe(403);
    const active = await h.call("POST", `/v1/admin/credentials/${cred.credential_id}/retry`, {
      token: operator,
    });
    expect(active.status).toBe(400);
  });
});

describe("issuance failures", () => {
  it("a provider refusal answers 502 and records the credential as failed (nothing was issued)", async () => {
    const task = await openTask();
    faults.refuseIssue = true;
    const res = await h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
      token: agent,
      body: { profile: "tickets-api" },
    });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: "provider_error", details: { provider: "signer" } });
    const view = await getTask(task.task_id);
    expect(view.credentials.map((c: { state: string }) => c.state)).toEqual(["failed"]);
  });

  it("a provider timeout answers 502 and revokes whatever the upstream may have issued", async () => {
    const task = await openTask();
    faults.failIssue = true;
    const res = await h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
      token: agent,
      body: { profile: "tickets-api" },
    });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("provider_error");
    expect(res.text).not.toContain("eyJ");
    const view = await waitFor(
      async () => {
        const t = await getTask(task.task_id);
        return t.credentials[0]?.state === "revoked" ? t : null;
      },
      5_000,
      "defensive revocation",
    );
    expect(view.credentials).toHaveLength(1);
    expect(faults.revokeCalls).toBe(1);
  });

  it("a credential half-issued before a crash (still pending) is revoked by the reconciler", async () => {
    const task = await openTask();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const store = createCredentialStore({ redis, keyPrefix: h.prefix, now: () => Date.now() });
      const credentialId = "crd_halfissuedcrash000001";
      const createdAt = Date.now() - 10_000;
      const recorded = await store.createPending(
        pendingCredential({
          id: credentialId,
          taskId: task.task_id,
          agent: "ci:summariser",
          profile: "tickets-api",
          provider: "signer",
          createdAt,
        }),
        Date.now(),
      );
      expect(recorded).toBe("ok");
      // The provider issued (the token exists) but the broker stopped before recording the handle.
      const issued = await h.broker.signer.issue({
        credentialId,
        taskId: task.task_id,
        agent: "ci:summariser",
        owner: "ci:summariser",
        initiator: { subject: "x", verified: false },
        profile: "tickets-api",
        ttlSeconds: 300,
        scopes: [],
        taskDeadline: Date.parse(task.deadline),
        actChain: [],
      });
      const token = String(issued.secret.token);
      expect((await introspect(token)).active).toBe(true);
      const view = await waitFor(
        async () => {
          const t = await getTask(task.task_id);
          return t.credentials[0]?.state === "revoked" ? t : null;
        },
        8_000,
        "half-issued credential revoked",
      );
      expect(view.state).toBe("open");
      expect(await introspect(token)).toEqual({ active: false });
    } finally {
      redis.disconnect();
    }
  });
});

describe("emergency revocation", () => {
  it("revoking by agent closes only that agent's tasks, with close_reason revoked, and reports progress", async () => {
    const victim = await h.token("compromised");
    const bystander = await h.token("bystander");
    const t1 = await openTask(600, {}, victim);
    const t2 = await openTask(600, {}, victim);
    const other = await openTask(600, {}, bystander);
    const creds = [
      await issue(t1.task_id, victim),
      await issue(t1.task_id, victim),
      await issue(t2.task_id, victim),
    ];
    const otherCred = await issue(other.task_id, bystander);

    const dry = await h.call("POST", "/v1/admin/revocations", {
      token: operator,
      body: { selector: { agent: "ci:compromised" }, reason: "drill", dry_run: true },
    });
    expect(dry.status).toBe(202);
    expect(dry.body).toMatchObject({ tasks: 2, credentials: 3, dry_run: true });
    expect((await getTask(t1.task_id, victim)).state).toBe("open");

    const res = await h.call("POST", "/v1/admin/revocations", {
      token: operator,
      body: { selector: { agent: "ci:compromised" }, reason: "key leaked" },
    });
    expect(res.status).toBe(202);
    expect(res.body.revocation_id).toMatch(/^rev_/);
    expect(res.body).toMatchObject({ tasks: 2, credentials: 3, state: "running" });
    const done = await waitFor(
      async () => {
        const status = await h.call("GET", `/v1/admin/revocations/${res.body.revocation_id}`, {
          token: operator,
        });
        return status.body.state === "completed" ? status.body : null;
      },
      8_000,
      "revocation completed",
    );
    expect(done.progress).toMatchObject({ revoked: 3, revoking: 0, revoke_failed: 0 });
    for (const task of [t1, t2]) expect((await getTask(task.task_id, victim)).close_reason).toBe("revoked");
    for (const cred of creds) expect(await introspect(cred.secret.token)).toEqual({ active: false });
    expect((await getTask(other.task_id, bystander)).state).toBe("open");
    expect((await introspect(otherCred.secret.token)).active).toBe(true);
  });

  it("every selector finds what it names", async () => {
    const worker = await h.token("selector-agent");
    const byInitiator = await openTask(600, { initiator: { subject: "eve@example.com" } }, worker);
    const byProfile = await openTask(600, {}, worker);
    await issue(byProfile.task_id, worker, "reports-api");
    const byTask = await openTask(600, {}, worker);
    const count = async (selector: Record<string, unknown>) =>
      (
        await h.call("POST", "/v1/admin/revocations", {
          token: operator,
          body: { selector, reason: "count", dry_run: true },
        })
      ).body;
    expect((await count({ initiator: "eve@example.com" })).tasks).toBe(1);
    expect(await count({ profile: "reports-api" })).toMatchObject({ tasks: 1, credentials: 1 });
    expect((await count({ provider: "signer" })).credentials).toBeGreaterThanOrEqual(1);
    expect((await count({ task_id: byTask.task_id })).tasks).toBe(1);
    expect((await count({ all: true })).tasks).toBeGreaterThanOrEqual(3);
    const run = await h.call("POST", "/v1/admin/revocations", {
      token: operator,
      body: { selector: { initiator: "eve@example.com" }, reason: "x" },
    });
    expect(run.status).toBe(202);
    await waitForState(byInitiator.task_id, "closed", 5_000, worker);
  });

  it("only principals the policy allows may revoke, and a bad selector is a 400", async () => {
    const denied = await h.call("POST", "/v1/admin/revocations", {
      token: agent,
      body: { selector: { all: true }, reason: "x" },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe("policy_denied");
    const bad = await h.call("POST", "/v1/admin/revocations", {
      token: operator,
      body: { selector: { agent: "a", all: true }, reason: "x" },
    });
    expect(bad.status).toBe(400);
    const unknown = await h.call("GET", "/v1/admin/revocations/rev_doesnotexist0000", { token: operator });
    expect(unknown.status).toBe(404);
  });
});
