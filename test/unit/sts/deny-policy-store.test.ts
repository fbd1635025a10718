import { IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IssuedCredential } from "../../../providers/provider.js";
import { parseDenyPolicy } from "../../../providers/sts/deny-policy.js";
import { DENY_POLICY_NAME } from "../../../providers/sts/sts-builder.js";
import { parseStsHandle } from "../../../providers/sts/sts-handle.js";
import { stsRedisKeys } from "../../../providers/sts/sts-keys.js";
import { type StsFixture, startStsFixture } from "../../sims/sts/sts-fixture.js";

/**
 * The per-role deny policy under load and failure: concurrent revocations from several replicas, lost
 * Redis state, a full inline-policy budget, crashed lock holders, and pruning after expiry.
 */

const revoke = (f: StsFixture, issued: IssuedCredential) =>
  f.provider.revoke({ credentialId: "crd_unused", handle: issued.handle, expiresAt: issued.expiresAt });
const userIdOf = (issued: IssuedCredential) => parseStsHandle(issued.handle).user_id;
const deniedIds = (f: StsFixture) => [
  ...parseDenyPolicy(f.sim.inlinePolicy(f.role.name, DENY_POLICY_NAME)).sessions.keys(),
];
const putCalls = (f: StsFixture) => f.sim.calls.filter((c) => c.action === "PutRolePolicy").length;

function iamFor(f: StsFixture): IAMClient {
  return new IAMClient({
    region: "us-east-1",
    endpoint: f.sim.url,
    maxAttempts: 1,
    credentials: {
      accessKeyId: f.sim.brokerUser.accessKeyId,
      secretAccessKey: f.sim.brokerUser.secretAccessKey,
    },
  });
}

describe("concurrent revocations", () => {
  let f: StsFixture;
  beforeAll(async () => {
    f = await startStsFixture({ name: "concurrency" });
  });
  afterAll(async () => f?.close());

  it("50 concurrent revocations on one role from two replicas all land in its deny policy", async () => {
    const replica = await f.replica();
    const sessions = await Promise.all(Array.from({ length: 50 }, () => f.issue()));
    const before = putCalls(f);
    await Promise.all(
      sessions.map(({ issued }, i) =>
        (i % 2 === 0 ? f.provider : replica).revoke({
          credentialId: "crd_unused",
          handle: issued.handle,
          expiresAt: issued.expiresAt,
        }),
      ),
    );
    expect(deniedIds(f).sort()).toEqual(sessions.map(({ issued }) => userIdOf(issued)).sort());
    for (const { issued } of sessions) expect(f.canRead(issued)).toBe(false);
    // One commit applies every entry desired so far: far fewer IAM writes than revocations.
    expect(putCalls(f) - before).toBeLessThan(50);
  });

  it("entries survive the loss of the broker's Redis bookkeeping, because IAM's copy is merged in", async () => {
    const first = (await f.issue()).issued;
    await revoke(f, first);
    const keys = stsRedisKeys(f.prefix);
    await f.redis.del(keys.desired(f.role.arn), keys.applied(f.role.arn), keys.pruneDue);
    const second = (await f.issue()).issued;
    await revoke(f, second);
    expect(deniedIds(f)).toEqual(expect.arrayContaining([userIdOf(first), userIdOf(second)]));
    expect(f.canRead(first)).toBe(false);
  });

  it("a lock left behind by a crashed worker expires, and revocation then proceeds", async () => {
    const { issued } = await f.issue();
    await f.redis.set(stsRedisKeys(f.prefix).lock(f.role.arn), "crashed-holder", "PX", 300);
    await revoke(f, issued);
    expect(f.canRead(issued)).toBe(false);
  });

  it("statements someone else put in the broker's policy are kept", async () => {
    const iam = iamFor(f);
    const foreign = { Sid: "OperatorBreakGlass", Effect: "Deny", Action: "s3:DeleteObject", Resource: "*" };
    const current = JSON.parse(f.sim.inlinePolicy(f.role.name, DENY_POLICY_NAME) ?? "{}");
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: f.role.name,
        PolicyName: DENY_POLICY_NAME,
        PolicyDocument: JSON.stringify({ ...current, Statement: [...current.Statement, foreign] }),
      }),
    );
    iam.destroy();
    await revoke(f, (await f.issue()).issued);
    expect(parseDenyPolicy(f.sim.inlinePolicy(f.role.name, DENY_POLICY_NAME)).foreign).toEqual([foreign]);
  });
});

describe("a full inline-policy budget", () => {
  let f: StsFixture;
  beforeAll(async () => {
    f = await startStsFixture({ name: "budget" });
    // Another inline policy leaves room for the broker's document with one entry, not two.
    const iam = iamFor(f);
    const filler = `arn:aws:s3:::${"x".repeat(9_900)}`;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: f.role.name,
        PolicyName: "team-policy",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: filler }],
        }),
      }),
    );
    iam.destroy();
  });
  afterAll(async () => f?.close());

  it("falls back to a role-wide aws:TokenIssueTime cut-off, reports it for the audit log, and spares later sessions", async () => {
    const first = (await f.issue()).issued;
    const bystander = (await f.issue()).issued;
    const second = (await f.issue()).issued;
    await expect(revoke(f, first)).resolves.toBeUndefined();
    const outcome = await revoke(f, second);
    expect(outcome?.auditDetails).toMatchObject({ deny: "role_cutoff", role_arn: f.role.arn });
    expect(f.canRead(first)).toBe(false);
    expect(f.canRead(second)).toBe(false);
    expect(f.canRead(bystander)).toBe(false); // the honest cost of the cut-off
    const policy = parseDenyPolicy(f.sim.inlinePolicy(f.role.name, DENY_POLICY_NAME));
    expect(policy.sessions.size).toBe(0);
    expect(policy.cutoff).not.toBeNull();
    f.clock.advance(10_000); // past the cut-off's skew allowance
    const later = (await f.issue()).issued;
    expect(f.canRead(later)).toBe(true);
    await revoke(f, later);
    expect(f.canRead(later)).toBe(false);
  });
});

describe("pruning", () => {
  let f: StsFixture;
  beforeAll(async () => {
    f = await startStsFixture({ name: "pruning" });
  });
  afterAll(async () => f?.close());

  it("drops entries of sessions past expiry, keeps live ones, and deletes the policy once empty", async () => {
    const shortLived = (await f.issue({ ttlSeconds: 900 })).issued;
    const longLived = (await f.issue({ ttlSeconds: 3600 })).issued;
    await revoke(f, shortLived);
    await revoke(f, longLived);
    expect(deniedIds(f)).toHaveLength(2);

    await f.provider.housekeeping?.();
    expect(deniedIds(f)).toHaveLength(2);

    f.clock.advance(900_000 + 120_000); // past the short session's expiry, its minute bucket and the margin
    await f.provider.housekeeping?.();
    expect(deniedIds(f)).toEqual([userIdOf(longLived)]);

    f.clock.advance(3_600_000);
    await f.provider.housekeeping?.();
    expect(f.sim.inlinePolicy(f.role.name, DENY_POLICY_NAME)).toBeUndefined();
    expect(await f.redis.zcard(stsRedisKeys(f.prefix).pruneDue)).toBe(0);
  });
});
