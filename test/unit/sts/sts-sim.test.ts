import {
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  RegionDisabledException,
  STSClient,
} from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type StsSim, startStsSim } from "../../sims/sts/sts-sim.js";
import { createTestClock } from "../../support/test-clock.js";

/** The simulator itself, driven by the real SDK clients: if these pass, the provider's tests mean something. */

const clock = createTestClock();
let sim: StsSim;
let sts: STSClient;
let iam: IAMClient;
let role: { name: string; arn: string; roleId: string };

const clientConfig = () => ({
  region: "us-east-1",
  endpoint: sim.url,
  maxAttempts: 1,
  credentials: { accessKeyId: sim.brokerUser.accessKeyId, secretAccessKey: sim.brokerUser.secretAccessKey },
});

beforeAll(async () => {
  sim = await startStsSim({ clock });
  sts = new STSClient(clientConfig());
  iam = new IAMClient(clientConfig());
  role = sim.createRole({ name: "task-role", maxSessionDuration: 7200 });
});
afterAll(async () => {
  sts.destroy();
  iam.destroy();
  await sim.close();
});
beforeEach(() => sim.clearFaults());

const assume = (input: Partial<ConstructorParameters<typeof AssumeRoleCommand>[0]> = {}) =>
  sts.send(
    new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: "crd_test", DurationSeconds: 900, ...input }),
  );

const doc = (statements: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

const errorOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (err) {
    return err as Error & { $metadata?: { httpStatusCode?: number }; $fault?: string };
  }
  throw new Error("expected the call to fail");
};

describe("STS", () => {
  it("AssumeRole returns ASIA keys, the assumed-role ARN and an expiry DurationSeconds away", async () => {
    const out = await assume({
      SourceIdentity: "tsk_1",
      Tags: [{ Key: "credbroker:task-id", Value: "tsk_1" }],
    });
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(out.AssumedRoleUser?.AssumedRoleId).toBe(`${role.roleId}:crd_test`);
    expect(out.AssumedRoleUser?.Arn).toBe("arn:aws:sts::111122223333:assumed-role/task-role/crd_test");
    expect(out.SourceIdentity).toBe("tsk_1");
    expect(out.Credentials?.Expiration?.getTime()).toBeGreaterThan(clock.now() + 898_000);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("GetCallerIdentity answers for issued session credentials", async () => {
    const out = await assume();
    const session = new STSClient({
      ...clientConfig(),
      credentials: {
        accessKeyId: out.Credentials?.AccessKeyId ?? "",
        secretAccessKey: out.Credentials?.SecretAccessKey ?? "",
        sessionToken: out.Credentials?.SessionToken ?? "",
      },
    });
    const who = await session.send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(out.AssumedRoleUser?.Arn);
    expect(who.UserId).toBe(`${role.roleId}:crd_test`);
    session.destroy();
  });

  it("refuses parameters outside the model's constraints with AWS's ValidationError text", async () => {
    const badName = await errorOf(assume({ RoleSessionName: "has space" }));
    expect(badName.name).toBe("ValidationError");
    expect(badName.message).toContain("Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    expect((await errorOf(assume({ DurationSeconds: 600 }))).message).toContain(
      "greater than or equal to 900",
    );
    expect((await errorOf(assume({ DurationSeconds: 7201 }))).message).toContain(
      "exceeds the MaxSessionDuration",
    );
    const longPolicy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${"b".repeat(2100)}/*` },
      ],
    });
    expect((await errorOf(assume({ Policy: longPolicy }))).message).toContain("less than or equal to 2048");
    expect((await errorOf(assume({ Policy: "{not json" }))).name).toBe("MalformedPolicyDocumentException");
    expect((await errorOf(assume({ Tags: [{ Key: "bad[key]", Value: "v" }] }))).name).toBe("ValidationError");
  });

  it("refuses roles it does not know, and tags the trust policy does not allow, with AccessDenied 403", async () => {
    const unknown = await errorOf(assume({ RoleArn: "arn:aws:iam::111122223333:role/nope" }));
    expect(unknown.name).toBe("AccessDenied");
    expect(unknown.$metadata?.httpStatusCode).toBe(403);
    const strict = sim.createRole({ name: "no-tags", trust: { tagSession: false } });
    const tagged = await errorOf(assume({ RoleArn: strict.arn, Tags: [{ Key: "k", Value: "v" }] }));
    expect(tagged.message).toContain("sts:TagSession");
  });

  it("injects throttling, server faults and a disabled region", async () => {
    sim.throttle(1);
    const throttled = await errorOf(assume());
    expect(throttled.name).toBe("Throttling");
    expect(throttled.$metadata?.httpStatusCode).toBe(400);
    sim.failNext(1);
    expect((await errorOf(assume())).$fault).toBe("server");
    sim.setRegionDisabled(true);
    expect(await errorOf(assume())).toBeInstanceOf(RegionDisabledException);
  });

  it("AssumeRoleWithWebIdentity goes unsigned and checks the token's issuer and audience", async () => {
    const issuer = "https://oidc.example.test";
    sim.registerOidcProvider(issuer, ["sts.amazonaws.com"]);
    const federated = sim.createRole({ name: "federated", trust: { webIdentityIssuers: [issuer] } });
    const jwt = (claims: Record<string, unknown>) =>
      `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;
    const anonymous = new STSClient({ region: "us-east-1", endpoint: sim.url, maxAttempts: 1 });
    const token = jwt({
      iss: issuer,
      aud: "sts.amazonaws.com",
      sub: "agent",
      exp: Math.floor(clock.now() / 1000) + 60,
    });
    const out = await anonymous.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: federated.arn,
        RoleSessionName: "web",
        WebIdentityToken: token,
      }),
    );
    expect(out.SubjectFromWebIdentityToken).toBe("agent");
    const wrongAudience = jwt({ iss: issuer, aud: "other", exp: Math.floor(clock.now() / 1000) + 60 });
    const refused = await errorOf(
      anonymous.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: federated.arn,
          RoleSessionName: "web",
          WebIdentityToken: wrongAudience,
        }),
      ),
    );
    expect(refused.name).toBe("InvalidIdentityTokenException");
    anonymous.destroy();
  });
});

describe("IAM", () => {
  it("stores inline policies and returns them URL-encoded, as IAM does", async () => {
    const text = doc([{ Sid: "A1", Effect: "Deny", Action: "*", Resource: "*" }]);
    await iam.send(new PutRolePolicyCommand({ RoleName: role.name, PolicyName: "p1", PolicyDocument: text }));
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: role.name, PolicyName: "p1" }));
    expect(got.PolicyDocument).toBe(encodeURIComponent(text));
    const listed = await iam.send(new ListRolePoliciesCommand({ RoleName: role.name }));
    expect(listed.PolicyNames).toContain("p1");
    await iam.send(new DeleteRolePolicyCommand({ RoleName: role.name, PolicyName: "p1" }));
    expect(
      (await errorOf(iam.send(new GetRolePolicyCommand({ RoleName: role.name, PolicyName: "p1" })))).name,
    ).toBe("NoSuchEntityException");
  });

  it("GetRole reports the role id and its MaxSessionDuration", async () => {
    const got = await iam.send(new GetRoleCommand({ RoleName: role.name }));
    expect(got.Role?.RoleId).toBe(role.roleId);
    expect(got.Role?.MaxSessionDuration).toBe(7200);
    expect(
      (await errorOf(iam.send(new GetRoleCommand({ RoleName: "missing" })))).$metadata?.httpStatusCode,
    ).toBe(404);
  });

  it("refuses inline policies past the 10,240-character budget with LimitExceeded 409", async () => {
    const big = sim.createRole({ name: "big" });
    const filler = (n: number) =>
      doc([{ Effect: "Deny", Action: "*", Resource: `arn:aws:s3:::${"x".repeat(n)}` }]);
    await iam.send(
      new PutRolePolicyCommand({ RoleName: big.name, PolicyName: "a", PolicyDocument: filler(6000) }),
    );
    const over = await errorOf(
      iam.send(
        new PutRolePolicyCommand({ RoleName: big.name, PolicyName: "b", PolicyDocument: filler(5000) }),
      ),
    );
    expect(over.name).toBe("LimitExceededException");
    expect(over.$metadata?.httpStatusCode).toBe(409);
    expect(over.message).toBe("Maximum policy size of 10240 bytes exceeded for role big");
  });

  it("answers AccessDenied for actions the broker user is refused", async () => {
    sim.denyActions(["iam:PutRolePolicy"]);
    const refused = await errorOf(
      iam.send(
        new PutRolePolicyCommand({
          RoleName: role.name,
          PolicyName: "p",
          PolicyDocument: doc([{ Effect: "Deny", Action: "*", Resource: "*" }]),
        }),
      ),
    );
    expect(refused.name).toBe("AccessDenied");
    expect(refused.$metadata?.httpStatusCode).toBe(403);
  });
});

describe("data plane", () => {
  it("honours a session until expiry, and not after", async () => {
    const out = await assume();
    const key = out.Credentials?.AccessKeyId ?? "";
    const expiry = out.Credentials?.Expiration?.getTime() ?? 0;
    expect(sim.isAllowed(key, "s3:GetObject", "arn:aws:s3:::b/k")).toBe(true);
    expect(sim.isAllowed(key, "s3:GetObject", "arn:aws:s3:::b/k", expiry)).toBe(false);
  });

  it("applies the session policy, including an aws:CurrentTime deadline", async () => {
    const deadline = clock.now() + 60_000;
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::reports/*",
          Condition: { DateLessThan: { "aws:CurrentTime": new Date(deadline).toISOString() } },
        },
      ],
    });
    const key = (await assume({ Policy: policy })).Credentials?.AccessKeyId ?? "";
    expect(sim.isAllowed(key, "s3:GetObject", "arn:aws:s3:::reports/q3")).toBe(true);
    expect(sim.isAllowed(key, "s3:PutObject", "arn:aws:s3:::reports/q3")).toBe(false);
    expect(sim.isAllowed(key, "s3:GetObject", "arn:aws:s3:::other/q3")).toBe(false);
    expect(sim.isAllowed(key, "s3:GetObject", "arn:aws:s3:::reports/q3", deadline)).toBe(false);
  });

  it("enforces inline Deny statements on aws:userid, aws:SourceIdentity and aws:TokenIssueTime after the propagation delay", async () => {
    const denyRole = sim.createRole({ name: "deny-role" });
    const a = await assume({ RoleArn: denyRole.arn, RoleSessionName: "sa", SourceIdentity: "tsk_a" });
    const b = await assume({ RoleArn: denyRole.arn, RoleSessionName: "sb", SourceIdentity: "tsk_b" });
    const keyA = a.Credentials?.AccessKeyId ?? "";
    const keyB = b.Credentials?.AccessKeyId ?? "";
    sim.setPropagationDelay(5_000);
    const put = (statement: Record<string, unknown>) =>
      iam.send(
        new PutRolePolicyCommand({
          RoleName: denyRole.name,
          PolicyName: "deny",
          PolicyDocument: doc([statement]),
        }),
      );
    await put({
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { StringEquals: { "aws:userid": `${denyRole.roleId}:sa` } },
    });
    expect(sim.isAllowed(keyA, "s3:GetObject", "*")).toBe(true);
    expect(sim.isAllowed(keyA, "s3:GetObject", "*", clock.now() + 5_000)).toBe(false);
    expect(sim.isAllowed(keyB, "s3:GetObject", "*", clock.now() + 5_000)).toBe(true);
    sim.setPropagationDelay(0);
    await put({
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceIdentity": "tsk_b" } },
    });
    expect(sim.isAllowed(keyB, "s3:GetObject", "*")).toBe(false);
    expect(sim.isAllowed(keyA, "s3:GetObject", "*")).toBe(true);
    clock.advance(1_000);
    await put({
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { DateLessThan: { "aws:TokenIssueTime": new Date(clock.now()).toISOString() } },
    });
    expect(sim.isAllowed(keyA, "s3:GetObject", "*")).toBe(false);
    const later = await assume({ RoleArn: denyRole.arn, RoleSessionName: "sc" });
    expect(sim.isAllowed(later.Credentials?.AccessKeyId ?? "", "s3:GetObject", "*")).toBe(true);
  });
});
