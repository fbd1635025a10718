import { IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CredentialProvider } from "../../providers/provider.js";
import { parseDenyPolicy } from "../../providers/sts/deny-policy.js";
import { DENY_POLICY_NAME } from "../../providers/sts/sts-builder.js";
import { READ_REPORT, REPORTS_POLICY } from "../sims/sts/sts-fixture.js";
import { type StsSim, startStsSim } from "../sims/sts/sts-sim.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { createTestClock, type TestClock } from "../support/test-clock.js";

/** AWS STS end to end: the broker's HTTP API, its worker, real Redis and the STS/IAM simulator. */

interface StsWorld {
  h: Harness;
  sim: StsSim;
  clock: TestClock;
  role: { name: string; arn: string; roleId: string };
  crowded: { name: string; arn: string; roleId: string };
  agent: string;
  close(): Promise<void>;
}

async function startWorld(
  name: string,
  decorateProviders?: (p: CredentialProvider[]) => CredentialProvider[],
) {
  const clock = createTestClock();
  const sim = await startStsSim({ clock });
  const role = sim.createRole({ name: "reports" });
  const crowded = sim.createRole({ name: "crowded" });
  const profile = (arn: string) => ({
    provider: "sts",
    role_arn: arn,
    session_policy: REPORTS_POLICY,
    max_ttl_seconds: 3600,
  });
  const h = await startHarness({
    name,
    clock,
    decorateProviders,
    config: {
      providers: {
        sts: {
          region: "us-east-1",
          endpoint: sim.url,
          iam_endpoint: sim.url,
          max_attempts: 2,
          timeout_ms: 2_000,
        },
      },
      profiles: { "reports-ro": profile(role.arn), "reports-crowded": profile(crowded.arn) },
    },
    env: {
      AWS_ACCESS_KEY_ID: sim.brokerUser.accessKeyId,
      AWS_SECRET_ACCESS_KEY: sim.brokerUser.secretAccessKey,
    },
  });
  const world: StsWorld = {
    h,
    sim,
    clock,
    role,
    crowded,
    agent: await h.token("summariser"),
    async close() {
      await h.close();
      await sim.close();
    },
  };
  return world;
}

async function openTask(w: StsWorld, ttlSeconds = 3600): Promise<string> {
  const res = await w.h.call("POST", "/v1/tasks", {
    token: w.agent,
    body: { intent: "sts test", ttl_seconds: ttlSeconds },
  });
  expect(res.status).toBe(201);
  return res.body.task_id;
}

/** The fields of a credential response these tests read. */
interface IssuedView {
  task_id: string;
  credential_id: string;
  secret: { access_key_id: string };
}

async function issue(w: StsWorld, taskId: string, profile = "reports-ro") {
  const res = await w.h.call("POST", `/v1/tasks/${taskId}/credentials`, {
    token: w.agent,
    body: { profile },
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const close = (w: StsWorld, taskId: string) =>
  w.h.call("POST", `/v1/tasks/${taskId}/close`, { token: w.agent });
const canRead = (w: StsWorld, cred: { secret: { access_key_id: string } }) =>
  w.sim.isAllowed(cred.secret.access_key_id, READ_REPORT.action, READ_REPORT.resource);
const deniedOn = (w: StsWorld, roleName: string) =>
  parseDenyPolicy(w.sim.inlinePolicy(roleName, DENY_POLICY_NAME));

describe("with revocation running", () => {
  let w: StsWorld;
  beforeAll(async () => {
    w = await startWorld("sts");
  });
  afterAll(async () => w?.close());

  it("closing a task denies its AWS session within a second, while another task's session on the same role keeps working", async () => {
    const closed = await issue(w, await openTask(w));
    const other = await issue(w, await openTask(w));
    expect(closed.provider).toBe("sts");
    expect(Object.keys(closed.secret).sort()).toEqual([
      "access_key_id",
      "expiration",
      "secret_access_key",
      "session_token",
    ]);
    expect(closed.downstream.account).toBe(
      `arn:aws:sts::111122223333:assumed-role/reports/${closed.credential_id}`,
    );
    expect(canRead(w, closed)).toBe(true);

    const started = performance.now();
    expect((await close(w, closed.task_id)).status).toBe(202);
    await waitFor(async () => !canRead(w, closed), 1_000, "the closed task's session to be denied");
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(canRead(w, other)).toBe(true);
    const task = await waitFor(async () => {
      const view = (await w.h.call("GET", `/v1/tasks/${closed.task_id}`, { token: w.agent })).body;
      return view.state === "closed" ? view : null;
    });
    expect(task.credentials[0].state).toBe("revoked");
  });

  it("50 tasks closed at once on one role leave all 50 sessions denied (no lost update)", async () => {
    const creds: IssuedView[] = [];
    for (let i = 0; i < 50; i++) creds.push(await issue(w, await openTask(w)));
    const closes = await Promise.all(creds.map((cred) => close(w, cred.task_id)));
    expect(closes.every((res) => res.status === 202)).toBe(true);
    await waitFor(async () => creds.every((cred) => !canRead(w, cred)), 10_000, "all 50 sessions denied");
    const denied = deniedOn(w, w.role.name).sessions;
    for (const cred of creds) expect(denied.has(`${w.role.roleId}:${cred.credential_id}`)).toBe(true);
  });

  it("a throttled IAM during close is retried until the session is denied", async () => {
    const cred = await issue(w, await openTask(w));
    const before = w.sim.calls.length;
    w.sim.throttle(3, { actions: ["PutRolePolicy"] });
    await close(w, cred.task_id);
    await waitFor(async () => !canRead(w, cred), 10_000, "the throttled revocation to land");
    const puts = w.sim.calls.slice(before).filter((c) => c.action === "PutRolePolicy");
    expect(puts.filter((c) => c.status === 400)).toHaveLength(3);
    expect(puts.at(-1)?.status).toBe(200);
    const view = await waitFor(async () => {
      const task = (await w.h.call("GET", `/v1/tasks/${cred.task_id}`, { token: w.agent })).body;
      return task.state === "closed" ? task : null;
    });
    expect(view.credentials[0].state).toBe("revoked");
  });

  it("when the role's deny policy is full, a role-wide cut-off denies the session and the audit log says so", async () => {
    const iam = new IAMClient({
      region: "us-east-1",
      endpoint: w.sim.url,
      maxAttempts: 1,
      credentials: {
        accessKeyId: w.sim.brokerUser.accessKeyId,
        secretAccessKey: w.sim.brokerUser.secretAccessKey,
      },
    });
    const filler = { Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${"x".repeat(9_900)}` };
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: w.crowded.name,
        PolicyName: "team-policy",
        PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [filler] }),
      }),
    );
    iam.destroy();
    const first = await issue(w, await openTask(w), "reports-crowded");
    const second = await issue(w, await openTask(w), "reports-crowded");
    await close(w, first.task_id);
    await waitFor(async () => !canRead(w, first), 5_000, "the first session denied");
    await close(w, second.task_id);
    await waitFor(async () => !canRead(w, second), 5_000, "the second session denied");
    expect(deniedOn(w, w.crowded.name).cutoff).not.toBeNull();

    const operator = await w.h.token("operator");
    const events = await waitFor(async () => {
      const res = await w.h.call("GET", `/v1/audit?task_id=${second.task_id}`, { token: operator });
      const revoked = res.body.events?.find((e: { type: string }) => e.type === "credential.revoked");
      return revoked ? res.body.events : null;
    });
    const revoked = events.find((e: { type: string }) => e.type === "credential.revoked");
    expect(revoked.details).toMatchObject({ deny: "role_cutoff", role_arn: w.crowded.arn });
    const evidence = await w.h.call("GET", `/v1/tasks/${second.task_id}/evidence`, { token: operator });
    expect(evidence.body.credentials[0].revocation).toMatchObject({
      path: "close",
      settled: { event: "revoked", seq: revoked.seq },
      confirmation: { deny: "role_cutoff", role_arn: w.crowded.arn, issued_before: expect.any(String) },
    });
  });
});

describe("with revocation disabled", () => {
  let w: StsWorld;
  /** The STS provider's revoke does nothing: only the session policy can stop the credential. */
  const noRevoke = (providers: CredentialProvider[]) =>
    providers.map((p) => (p.kind === "sts" ? { ...p, revoke: async () => undefined } : p));
  beforeAll(async () => {
    w = await startWorld("sts-norevoke", noRevoke);
  });
  afterAll(async () => w?.close());

  it("a credential for a task with seconds left is issued for 900 s, says so once, and is useless after the deadline", async () => {
    const taskId = await openTask(w, 5);
    const cred = await issue(w, taskId);
    expect(cred.ttl_seconds).toBe(900);
    expect(cred.notes.length).toBeGreaterThanOrEqual(1);
    expect(new Set(cred.notes).size).toBe(cred.notes.length);
    expect(cred.notes.filter((note: string) => note.includes("900 s"))).toHaveLength(1);
    expect(canRead(w, cred)).toBe(true);

    w.clock.advance(6_000);
    expect(canRead(w, cred)).toBe(false);
    expect(Date.parse(cred.expires_at)).toBeGreaterThan(w.clock.now());
    expect(w.sim.inlinePolicy(w.role.name, DENY_POLICY_NAME)).toBeUndefined();
  });
});

describe("pruning", () => {
  let w: StsWorld;
  beforeAll(async () => {
    w = await startWorld("sts-prune");
  });
  afterAll(async () => w?.close());

  it("the worker removes deny entries once their sessions have expired", async () => {
    const cred = await issue(w, await openTask(w));
    await close(w, cred.task_id);
    await waitFor(async () => deniedOn(w, w.role.name).sessions.size === 1, 5_000, "the deny entry");
    w.clock.advance(900_000 + 180_000);
    await waitFor(
      async () => w.sim.inlinePolicy(w.role.name, DENY_POLICY_NAME) === undefined,
      10_000,
      "pruning",
    );
  });
});
