import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertionFromFile,
  assertionFromFunction,
  type BrokerClient,
  CredbrokerError,
  createBrokerClient,
  isCredbrokerError,
  PendingApproval,
  type RetryEvent,
} from "../../src/client/index.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { createTestClock } from "../support/test-clock.js";

/** Workloads of issuer "ci" run tasks; writing tickets needs a human; approvers are "approver-*". */
const POLICY = `
@id("ci-tasks")
permit (principal, action in [Credbroker::Action::"OpenTask", Credbroker::Action::"DelegateTask",
  Credbroker::Action::"CloseTask", Credbroker::Action::"ReadTask"], resource)
when { principal.issuer == "ci" };

@id("ci-credentials")
@max_ttl("600")
permit (principal, action == Credbroker::Action::"RequestCredential", resource)
when { principal.issuer == "ci" };

@id("write-needs-approval")
@approval("required")
forbid (principal, action == Credbroker::Action::"RequestCredential", resource)
when { context.scopes.contains("tickets:write") && !context.approved };

@id("no-bulk-delete")
forbid (principal, action == Credbroker::Action::"RequestCredential", resource)
when { context.reason == "bulk delete" };

@id("approvers")
permit (principal, action == Credbroker::Action::"Approve", resource)
when { principal.subject like "approver*" };

@id("ci-introspect-own-tokens")
permit (principal, action == Credbroker::Action::"Introspect", resource)
when { principal.issuer == "ci" && context.caller_is_agent };
`;

let h: Harness;
let dir: string;
let agent: BrokerClient;
let approver: BrokerClient;

/** A client whose assertion is minted fresh for `ci:<sub>` on every request (the function source). */
const clientFor = (
  harness: Harness,
  sub: string,
  extra: Partial<Parameters<typeof createBrokerClient>[0]> = {},
) =>
  createBrokerClient({
    url: harness.baseUrl,
    assertion: assertionFromFunction(() => harness.token(sub)),
    ...extra,
  });

async function taskState(taskId: string): Promise<string> {
  return (await h.call("GET", `/v1/tasks/${taskId}`, { token: await h.token("summariser") })).body.state;
}

async function rejection(promise: Promise<unknown>): Promise<CredbrokerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CredbrokerError)) throw new Error(`expected a CredbrokerError, got ${String(err)}`);
  return err;
}

beforeAll(async () => {
  h = await startHarness({ name: "client-sdk", policy: POLICY });
  dir = mkdtempSync(path.join(tmpdir(), "credbroker-sdk-"));
  agent = clientFor(h, "summariser");
  approver = clientFor(h, "approver-alice");
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("client SDK against a live broker", () => {
  it("opens a task, gets a signer credential and closes the task, which revokes it", async () => {
    const task = await agent.openTask({
      intent: "Summarise Q3 incidents",
      ttlSeconds: 600,
      initiator: "alice@example.com",
      profiles: ["tickets-api"],
      labels: { ticket: "INC-42" },
    });
    expect(task.id).toMatch(/^tsk_/);
    expect(task.info).toMatchObject({ state: "open", agent: "ci:summariser", labels: { ticket: "INC-42" } });
    expect(task.info.initiator).toEqual({ subject: "alice@example.com", verified: false });

    const result = await task.credential("tickets-api", {
      ttlSeconds: 300,
      scopes: ["tickets:read"],
      reason: "list open incidents",
    });
    if (result.kind !== "credential") throw new Error("expected a credential");
    expect(result).toMatchObject({ profile: "tickets-api", provider: "signer", ttlSeconds: 300 });
    expect(result.secret.token).toMatch(/^eyJ/);
    expect(JSON.stringify(result)).not.toContain(result.secret.token);

    const closed = await task.close({ reason: "done" });
    expect(["closing", "closed"]).toContain(closed.state);
    const introspect = async () =>
      (
        await h.call("POST", "/v1/introspect", {
          token: await h.token("summariser"),
          body: { token: result.secret.token },
        })
      ).body.active === false;
    await waitFor(introspect, 5_000, "the credential revoked");
  });

  it("`await using` closes the task when the scope ends", async () => {
    let taskId = "";
    {
      await using task = await agent.openTask({ intent: "scoped", ttlSeconds: 300 });
      taskId = task.id;
      expect(await taskState(taskId)).toBe("open");
    }
    expect(["closing", "closed"]).toContain(await taskState(taskId));
  });

  it("`await using` closes the task when the scope ends by a throw", async () => {
    let taskId = "";
    const run = async () => {
      await using task = await agent.openTask({ intent: "scoped, failing", ttlSeconds: 300 });
      taskId = task.id;
      await task.credential("tickets-api", { scopes: ["tickets:read"] });
      throw new Error("the model gave up");
    };
    await expect(run()).rejects.toThrow("the model gave up");
    expect(["closing", "closed"]).toContain(await taskState(taskId));
  });

  it("delegates a narrower child task that its agent uses, and closing the parent closes it", async () => {
    await using parent = await agent.openTask({
      intent: "triage",
      ttlSeconds: 300,
      profiles: ["tickets-api", "reports-api"],
    });
    const child = await parent.delegate({ agent: "ci:helper", profiles: ["reports-api"], ttlSeconds: 120 });
    expect(child.info).toMatchObject({
      parentTaskId: parent.id,
      depth: 1,
      agent: "ci:helper",
      intent: "triage",
    });
    expect(child.info.profiles).toEqual(["reports-api"]);

    const helper = clientFor(h, "helper");
    const attached = await helper.task(child.id);
    const credential = await attached.credential("reports-api", { reason: "monthly report" });
    expect(credential.kind).toBe("credential");
    const wider = await rejection(attached.credential("tickets-api", { scopes: ["tickets:read"] }));
    expect(wider).toMatchObject({ code: "scope_not_allowed", status: 422 });
    const tooWide = await rejection(
      parent.delegate({ agent: "ci:helper", profiles: ["other"], ttlSeconds: 60 }),
    );
    expect(tooWide.status).toBeGreaterThanOrEqual(400);

    await parent.close();
    await waitFor(
      async () => ["closing", "closed"].includes((await attached.refresh()).state),
      5_000,
      "cascade",
    );
  });

  it("waits for an approval that another principal grants, then yields the credential", async () => {
    await using task = await agent.openTask({ intent: "close duplicates", ttlSeconds: 300 });
    const result = await task.credential("tickets-api", {
      scopes: ["tickets:write"],
      ttlSeconds: 120,
      reason: "close INC-7",
    });
    if (!(result instanceof PendingApproval)) throw new Error("expected a pending approval");
    expect(result).toMatchObject({ kind: "pending_approval", taskId: task.id, profile: "tickets-api" });
    expect(result.approvalId).toMatch(/^apr_/);

    const waiting = result.wait({ initialIntervalMs: 50, maxIntervalMs: 200, timeoutMs: 10_000 });
    const pending = await waitFor(
      async () => (await approver.approvals.listPending()).find((a) => a.approvalId === result.approvalId),
      5_000,
      "the approval listed for the approver",
    );
    expect(pending).toMatchObject({
      state: "pending",
      requester: "ci:summariser",
      scopes: ["tickets:write"],
    });
    const decided = await approver.approvals.approve(result.approvalId, { comment: "duplicates confirmed" });
    expect(decided).toMatchObject({ state: "approved", decidedBy: "ci:approver-alice" });

    const credential = await waiting;
    expect(credential).toMatchObject({ kind: "credential", scopes: ["tickets:write"], ttlSeconds: 120 });
    expect(credential.secret.token).toMatch(/^eyJ/);
    const again = await rejection(result.wait({ initialIntervalMs: 10 }));
    expect(again.code).toBe("approval_already_redeemed");
  });

  it("a denied approval rejects wait() with approval_denied and the approver's comment", async () => {
    await using task = await agent.openTask({ intent: "close duplicates", ttlSeconds: 300 });
    const result = await task.credential("tickets-api", { scopes: ["tickets:write"] });
    if (result.kind !== "pending_approval") throw new Error("expected a pending approval");
    const waiting = rejection(result.wait({ initialIntervalMs: 50, maxIntervalMs: 200, timeoutMs: 10_000 }));
    await approver.approvals.deny(result.approvalId, { comment: "not during the freeze" });
    const err = await waiting;
    expect(err).toMatchObject({ code: "approval_denied", details: { comment: "not during the freeze" } });
    expect(isCredbrokerError(err, "approval_denied")).toBe(true);
  });

  it("wait() stops on its timeout or signal and the approval stays pending; closing the task cancels it", async () => {
    const task = await agent.openTask({ intent: "close duplicates", ttlSeconds: 300 });
    const result = await task.credential("tickets-api", { scopes: ["tickets:write"] });
    if (result.kind !== "pending_approval") throw new Error("expected a pending approval");
    expect((await rejection(result.wait({ timeoutMs: 150, initialIntervalMs: 20 }))).code).toBe(
      "approval_timeout",
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    expect((await rejection(result.wait({ signal: controller.signal, initialIntervalMs: 20 }))).code).toBe(
      "aborted",
    );
    await task.close();
    expect((await rejection(result.wait())).code).toBe("approval_cancelled");
  });

  it("a policy denial is a typed error naming the deciding policy", async () => {
    await using task = await agent.openTask({ intent: "cleanup", ttlSeconds: 120 });
    const err = await rejection(
      task.credential("tickets-api", { scopes: ["tickets:read"], reason: "bulk delete" }),
    );
    expect(err).toMatchObject({ code: "policy_denied", status: 403 });
    expect(err.details?.policies).toEqual(expect.arrayContaining(["no-bulk-delete"]));
    expect(err.requestId).toMatch(/^cbc_/);
  });

  it("re-reads a file assertion on every call, so a rotated token is used at once", async () => {
    const file = path.join(dir, "token");
    writeFileSync(file, `${await h.token("summariser")}\n`);
    const fromFile = createBrokerClient({ url: h.baseUrl, assertion: assertionFromFile(file) });
    await using task = await fromFile.openTask({ intent: "rotation", ttlSeconds: 120 });
    writeFileSync(file, await h.token("stranger"));
    expect((await rejection(task.refresh())).code).toBe("not_found");
    writeFileSync(file, await h.token("summariser"));
    expect((await task.refresh()).state).toBe("open");
    unlinkSync(file);
    expect((await rejection(task.refresh())).code).toBe("assertion_unavailable");
    writeFileSync(file, await h.token("summariser"));
  });
});

describe("client SDK retries against a rate-limited broker", () => {
  it("waits out a 429's Retry-After and retries the credential request once the window passes", async () => {
    const clock = createTestClock();
    const limited = await startHarness({
      name: "client-sdk-429",
      policy: POLICY,
      issuer: h.issuer,
      clock,
      config: { limits: { requests_per_minute: 3 } },
    });
    try {
      const retries: RetryEvent[] = [];
      const client = clientFor(limited, "summariser", {
        retry: {
          onRetry: (event) => retries.push(event),
          sleep: async (ms) => clock.advance(ms),
        },
      });
      const task = await client.openTask({ intent: "busy", ttlSeconds: 600 });
      for (let i = 0; i < 3; i++) {
        const result = await task.credential("reports-api", { reason: `call ${i}` });
        expect(result.kind).toBe("credential");
      }
      expect(retries).toHaveLength(1);
      expect(retries[0]).toMatchObject({ reason: 429, attempt: 1, method: "POST" });
      expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(1_000);
      expect(retries[0]!.delayMs).toBeLessThanOrEqual(60_000);
      const noRetry = clientFor(limited, "summariser", { retry: { attempts: 1 } });
      for (let i = 0; i < 3; i++) await noRetry.task(task.id).catch(() => undefined);
      const err = await rejection(noRetry.task(task.id));
      expect(err).toMatchObject({ code: "rate_limited", status: 429 });
      expect(err.retryAfterSeconds).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
