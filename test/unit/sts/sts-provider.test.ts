import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PermanentProviderError, TransientProviderError } from "../../../providers/provider-errors.js";
import { DENY_POLICY_NAME } from "../../../providers/sts/sts-builder.js";
import { parseStsHandle } from "../../../providers/sts/sts-handle.js";
import { type StsFixture, startStsFixture } from "../../sims/sts/sts-fixture.js";

/** The STS provider against the simulator: what it issues, and what revoking does to the data plane. */

let f: StsFixture;

beforeAll(async () => {
  f = await startStsFixture({ name: "provider", roleMaxSessionSeconds: 7200, profileMaxTtlSeconds: 7200 });
});
afterAll(async () => f?.close());
beforeEach(() => f.sim.clearFaults());

const revoke = (issued: { handle: string; expiresAt: number }, credentialId = "crd_unused") =>
  f.provider.revoke({ credentialId, handle: issued.handle, expiresAt: issued.expiresAt });

async function redisValues(): Promise<string> {
  const keys = await f.redis.keys(`${f.prefix}:*`);
  const values = await Promise.all(
    keys.map(async (key) => {
      const type = await f.redis.type(key);
      if (type === "hash") return JSON.stringify(await f.redis.hgetall(key));
      if (type === "zset") return JSON.stringify(await f.redis.zrange(key, "0", "-1"));
      return String(await f.redis.get(key));
    }),
  );
  return `${keys.join(" ")} ${values.join(" ")}`;
}

describe("issuing", () => {
  it("returns the API's STS secret shape, the assumed-role session ARN as account, and a handle with no secret", async () => {
    const { request, issued } = await f.issue();
    expect(Object.keys(issued.secret).sort()).toEqual([
      "access_key_id",
      "expiration",
      "secret_access_key",
      "session_token",
    ]);
    expect(issued.secret.expiration).toBe(new Date(issued.expiresAt).toISOString());
    expect(issued.downstreamAccount).toBe(
      `arn:aws:sts::111122223333:assumed-role/${f.role.name}/${request.credentialId}`,
    );
    const handle = parseStsHandle(issued.handle);
    expect(handle).toEqual({
      role_arn: f.role.arn,
      session_name: request.credentialId,
      user_id: `${f.role.roleId}:${request.credentialId}`,
      expires_at: issued.expiresAt,
    });
    expect(issued.handle).not.toContain(String(issued.secret.secret_access_key));
    expect(issued.handle).not.toContain(String(issued.secret.session_token));
  });

  it("names the session after the credential, and carries the task as SourceIdentity and task/agent/initiator tags", async () => {
    const { request, issued } = await f.issue({ agent: "k8s:system:serviceaccount:agents:summariser [bot]" });
    const session = f.sim.session(String(issued.secret.access_key_id));
    expect(session?.sessionName).toBe(request.credentialId);
    expect(session?.sourceIdentity).toBe(request.taskId);
    expect(session?.tags).toEqual({
      "credbroker:task-id": request.taskId,
      "credbroker:agent": "k8s:system:serviceaccount:agents:summariser _bot_",
      "credbroker:initiator": "alice@example.com",
    });
  });

  it("bounds every Allow of the session policy by the task deadline", async () => {
    const taskDeadline = f.clock.now() + 600_000;
    const { issued } = await f.issue({ taskDeadline });
    const deadlineSecond = Math.floor(taskDeadline / 1000) * 1000;
    expect(f.canRead(issued)).toBe(true);
    expect(f.canRead(issued, deadlineSecond - 1)).toBe(true);
    expect(f.canRead(issued, deadlineSecond)).toBe(false);
    expect(issued.expiresAt).toBeGreaterThan(deadlineSecond);
    const key = String(issued.secret.access_key_id);
    expect(f.sim.isAllowed(key, "s3:PutObject", "arn:aws:s3:::reports/q3.csv")).toBe(false);
    expect(f.sim.isAllowed(key, "s3:GetObject", "arn:aws:s3:::payroll/q3.csv")).toBe(false);
  });

  it("clamps DurationSeconds to STS's 900 s floor and the role's MaxSessionDuration", async () => {
    const durationOf = (issued: { secret: Record<string, unknown> }) =>
      f.sim.session(String(issued.secret.access_key_id))?.durationSeconds;
    const short = await f.issue({ ttlSeconds: 300 });
    expect(durationOf(short.issued)).toBe(900);
    expect(short.issued.notes.join(" ")).toContain("at least 900 s");
    expect(durationOf((await f.issue({ ttlSeconds: 1800 })).issued)).toBe(1800);
    const long = await f.issue({ ttlSeconds: 43_200, taskDeadline: f.clock.now() + 86_400_000 });
    expect(durationOf(long.issued)).toBe(7200);
  });

  it("says in its notes when the 900 s session outlives the task, and says nothing when it does not", async () => {
    const soon = await f.issue({ taskDeadline: f.clock.now() + 120_000 });
    expect(soon.issued.notes).toHaveLength(1);
    expect(soon.issued.notes[0]).toMatch(
      /after the task deadline .* session policy denies every request after the deadline/,
    );
    expect((await f.issue()).issued.notes).toEqual([]);
  });

  it("keeps secret keys and session tokens out of Redis", async () => {
    const { issued } = await f.issue();
    await revoke(issued);
    const stored = await redisValues();
    expect(stored).not.toContain(String(issued.secret.secret_access_key));
    expect(stored).not.toContain(String(issued.secret.session_token));
    expect(stored).not.toContain(String(issued.secret.access_key_id));
  });
});

describe("revoking", () => {
  it("denies the session on the role while another task's session on the same role keeps working", async () => {
    const revoked = (await f.issue()).issued;
    const other = (await f.issue()).issued;
    await expect(revoke(revoked)).resolves.toBeUndefined();
    expect(f.canRead(revoked)).toBe(false);
    expect(f.canRead(other)).toBe(true);
    const policy = f.sim.inlinePolicy(f.role.name, DENY_POLICY_NAME) ?? "";
    expect(policy).toContain(parseStsHandle(revoked.handle).user_id);
    await expect(revoke(revoked)).resolves.toBeUndefined();
  });

  it("without a handle, denies the session named after the credential id on the profile's role", async () => {
    const { request, issued } = await f.issue();
    await f.provider.revoke({
      credentialId: request.credentialId,
      handle: null,
      expiresAt: f.clock.now() + 900_000,
      profile: "reports-ro",
    });
    expect(f.canRead(issued)).toBe(false);
  });

  it("a session that has already expired needs no deny entry", async () => {
    const { issued } = await f.issue();
    const before = f.sim.calls.length;
    await f.provider.revoke({ credentialId: "crd_x", handle: issued.handle, expiresAt: issued.expiresAt });
    expect(f.sim.calls.length).toBeGreaterThan(before);
    const stale = { ...parseStsHandle(issued.handle), expires_at: f.clock.now() - 3_600_000 };
    const calls = f.sim.calls.length;
    await f.provider.revoke({
      credentialId: "crd_x",
      handle: JSON.stringify(stale),
      expiresAt: stale.expires_at,
    });
    expect(f.sim.calls.length).toBe(calls);
  });
});

describe("upstream failures", () => {
  it("a throttled or failing IAM makes revocation fail transiently (the queue retries)", async () => {
    const { issued } = await f.issue();
    f.sim.throttle(1, { actions: ["PutRolePolicy"] });
    await expect(revoke(issued)).rejects.toBeInstanceOf(TransientProviderError);
    f.sim.failNext(1, { actions: ["GetRolePolicy"] });
    await expect(revoke(issued)).rejects.toBeInstanceOf(TransientProviderError);
    await revoke(issued);
    expect(f.canRead(issued)).toBe(false);
  });

  it("AccessDenied on PutRolePolicy makes revocation fail permanently", async () => {
    const { issued } = await f.issue();
    f.sim.denyActions(["iam:PutRolePolicy"]);
    const err = await revoke(issued).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(String(err)).toContain("AccessDenied");
  });

  it("issuing in a region where STS is disabled fails permanently; a throttled STS transiently", async () => {
    f.sim.setRegionDisabled(true);
    await expect(f.issue()).rejects.toBeInstanceOf(PermanentProviderError);
    f.sim.clearFaults();
    f.sim.throttle(1, { actions: ["AssumeRole"] });
    await expect(f.issue()).rejects.toBeInstanceOf(TransientProviderError);
  });
});

describe("timeouts", () => {
  let slow: StsFixture;
  beforeAll(async () => {
    slow = await startStsFixture({ name: "timeouts", timeoutMs: 150 });
  });
  afterAll(async () => slow?.close());

  it("an STS call slower than timeout_ms fails transiently instead of hanging", async () => {
    await slow.issue(); // warms the role cache, so only AssumeRole is slow
    slow.sim.setResponseDelay(1_000);
    const started = performance.now();
    await expect(slow.issue()).rejects.toBeInstanceOf(TransientProviderError);
    expect(performance.now() - started).toBeLessThan(900);
  });
});
