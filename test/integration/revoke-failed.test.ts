import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { type Faults, newFaults, withFaults } from "../support/faulty-provider.js";

/**
 * The way out of revoke_failed: a permanent failure is kept (listed, counted) but not retried on its own;
 * an exhausted one is retried on a growing interval; an operator resolves either by hand, with a reason,
 * audited and shown in the evidence, after which the task finishes closing.
 */

let h: Harness;
let agent: string;
let operator: string;
const faults: Faults = newFaults();

beforeAll(async () => {
  h = await startHarness({
    name: "revokefailed",
    decorateProviders: withFaults(faults),
    config: {
      revocation: {
        attempts: 2,
        backoff_ms: 50,
        reconcile_interval_seconds: 1,
        failed_retry_interval_seconds: 1,
      },
    },
  });
  agent = await h.token("summariser");
  operator = await h.token("operator");
});
afterAll(async () => h?.close());
beforeEach(() => Object.assign(faults, newFaults()));

async function closedTaskWithFailedCredential(fault: Partial<Faults>) {
  const open = await h.call("POST", "/v1/tasks", {
    token: agent,
    body: { intent: "revoke failed", ttl_seconds: 600 },
  });
  const taskId = open.body.task_id;
  const issued = await h.call("POST", `/v1/tasks/${taskId}/credentials`, {
    token: agent,
    body: { profile: "tickets-api" },
  });
  expect(issued.status).toBe(201);
  Object.assign(faults, fault);
  await h.call("POST", `/v1/tasks/${taskId}/close`, { token: agent });
  const credential = await waitFor(
    async () => {
      const task = (await h.call("GET", `/v1/tasks/${taskId}`, { token: agent })).body;
      return task.credentials[0].state === "revoke_failed" ? task.credentials[0] : null;
    },
    5_000,
    "revoke_failed",
  );
  return {
    taskId,
    credentialId: issued.body.credential_id as string,
    token: issued.body.secret.token,
    credential,
  };
}

const auditTypes = async (taskId: string) =>
  (await h.call("GET", `/v1/audit?task_id=${taskId}&limit=1000`, { token: operator })).body.events.map(
    (e: { type: string }) => e.type,
  );

describe("revoke_failed", () => {
  it("a permanent failure is not retried on its own, stays listed and counted, and says it is permanent", async () => {
    const { taskId, credential } = await closedTaskWithFailedCredential({ permanentRevokeFailure: true });
    expect(credential.failure_kind).toBe("permanent");
    const calls = faults.revokeCalls;
    // Several reconcile passes with a 1 s retry interval: an exhausted failure would have been retried.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect(faults.revokeCalls).toBe(calls);
    expect((await auditTypes(taskId)).filter((t: string) => t === "credential.retry")).toEqual([]);
    const listed = await h.call("GET", "/v1/admin/credentials?state=revoke_failed", { token: operator });
    expect(listed.body.credentials.map((c: { credential_id: string }) => c.credential_id)).toContain(
      credential.credential_id,
    );
    expect(await (await fetch(`${h.baseUrl}/metrics`)).text()).toMatch(/^credbroker_revoke_failed [1-9]/m);
  });

  it("an exhausted failure is retried by itself, each retry waiting longer, and ends revoked once the upstream heals", async () => {
    const { taskId, credential } = await closedTaskWithFailedCredential({ failRevokes: 4 });
    expect(credential.failure_kind).toBe("exhausted");
    const task = await waitFor(
      async () => {
        const t = (await h.call("GET", `/v1/tasks/${taskId}`, { token: agent })).body;
        return t.state === "closed" ? t : null;
      },
      15_000,
      "closed after scheduled retries",
    );
    expect(task.credentials[0].state).toBe("revoked");
    const retries = (await auditTypes(taskId)).filter((t: string) => t === "credential.retry");
    expect(retries.length).toBeGreaterThanOrEqual(1);
  });

  it("an operator resolves it by hand with a reason: audited, in the evidence, and the task finishes closing", async () => {
    const { taskId, credentialId } = await closedTaskWithFailedCredential({ permanentRevokeFailure: true });
    const path = `/v1/admin/credentials/${credentialId}/resolve`;
    expect((await h.call("POST", path, { token: agent, body: { reason: "mine" } })).status).toBe(403);
    const noReason = await h.call("POST", path, { token: operator, body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.code).toBe("invalid_request");

    const resolved = await h.call("POST", path, {
      token: operator,
      body: { reason: "signing key rotated out; token checked dead at the gateway" },
    });
    expect(resolved.status, resolved.text).toBe(200);
    expect(resolved.body).toMatchObject({
      state: "resolved",
      failure_kind: "permanent",
      resolution: { by: "ci:operator", reason: "signing key rotated out; token checked dead at the gateway" },
    });
    const task = await waitFor(
      async () => {
        const t = (await h.call("GET", `/v1/tasks/${taskId}`, { token: agent })).body;
        return t.state === "closed" ? t : null;
      },
      5_000,
      "closed",
    );
    expect(task.credentials[0].state).toBe("resolved");
    expect(await auditTypes(taskId)).toContain("credential.resolved");
    const evidence = (await h.call("GET", `/v1/tasks/${taskId}/evidence`, { token: operator })).body;
    const entry = evidence.credentials.find(
      (c: { credential_id: string }) => c.credential_id === credentialId,
    );
    expect(entry.revocation).toMatchObject({
      outcome: "resolved",
      failure_kind: "permanent",
      resolved: { by: "ci:operator", reason: "signing key rotated out; token checked dead at the gateway" },
      path: "close",
      requested: { by: "ci:summariser" },
      settled: { event: "resolved", by: "ci:operator" },
    });
    const again = await h.call("POST", path, { token: operator, body: { reason: "twice" } });
    expect(again.status).toBe(400);
  });
});
