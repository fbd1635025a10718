import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { PermanentProviderError, TransientProviderError } from "../../../providers/provider-errors.js";
import { buildStsProvider } from "../../../providers/sts/sts-builder.js";
import { classifyAwsError } from "../../../providers/sts/sts-errors.js";
import { ConfigError, parseConfig } from "../../../src/config/load-config.js";
import { profilesOf, providerHost } from "../../../src/providers-setup/provider-context.js";
import { systemClock } from "../../../src/shared/clock.js";
import { createLogger } from "../../../src/shared/logger.js";
import { TEST_REDIS_URL } from "../../support/redis-keys.js";

/** How AWS failures are classified, and how a bad STS configuration is refused at start. */

const awsError = (name: string, status: number | undefined, fault?: "client" | "server") =>
  Object.assign(new Error(`${name} happened`), {
    name,
    ...(fault ? { $fault: fault } : {}),
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
  });

describe("AWS error classification", () => {
  it.each([
    ["Throttling", 400, "client"],
    ["TooManyRequestsException", 429, "client"],
    ["InternalFailure", 500, "server"],
    ["ServiceUnavailable", 503, "server"],
    ["ExpiredToken", 403, "client"],
  ] as const)("%s is transient: retry with backoff", (name, status, fault) => {
    expect(classifyAwsError(awsError(name, status, fault), "call")).toBeInstanceOf(TransientProviderError);
  });

  it.each([
    ["AccessDenied", 403],
    ["NoSuchEntityException", 404],
    ["ValidationError", 400],
    ["RegionDisabledException", 403],
    ["MalformedPolicyDocumentException", 400],
  ] as const)("%s is permanent: stop and report", (name, status) => {
    expect(classifyAwsError(awsError(name, status, "client"), "call")).toBeInstanceOf(PermanentProviderError);
  });

  it("timeouts and dropped connections are transient", () => {
    expect(classifyAwsError(Object.assign(new Error("t"), { name: "TimeoutError" }), "call")).toBeInstanceOf(
      TransientProviderError,
    );
    expect(
      classifyAwsError(Object.assign(new Error("reset"), { code: "ECONNRESET" }), "call"),
    ).toBeInstanceOf(TransientProviderError);
  });

  it("names the AWS code and the call in the message", () => {
    const err = classifyAwsError(awsError("NoSuchEntityException", 404, "client"), "IAM PutRolePolicy r/p");
    expect(err.message).toMatch(/^IAM PutRolePolicy r\/p failed: NoSuchEntity: /);
  });
});

describe("STS configuration", () => {
  const base = (profile: Record<string, unknown>, sts: Record<string, unknown> = {}) => ({
    server: { audience: "a", public_url: "http://127.0.0.1:1" },
    redis: { url: TEST_REDIS_URL },
    providers: { sts: { region: "us-east-1", ...sts } },
    profiles: {
      reports: {
        provider: "sts",
        role_arn: "arn:aws:iam::111122223333:role/reports",
        session_policy: { Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] },
        max_ttl_seconds: 900,
        ...profile,
      },
    },
  });

  async function build(raw: Record<string, unknown>) {
    const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
    try {
      const config = parseConfig(raw);
      const host = providerHost({
        config,
        configDir: ".",
        redis,
        clock: systemClock,
        env: {},
        logger: createLogger({ level: "silent" }),
      });
      const provider = await buildStsProvider(
        { config: config.providers.sts!, profiles: profilesOf(config, "sts") },
        host,
      );
      await provider.close();
    } finally {
      redis.disconnect();
    }
  }

  it("refuses at start a session policy that cannot fit STS's 2,048 characters with its deadlines", async () => {
    const statements = Array.from({ length: 20 }, (_, i) => ({
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: `arn:aws:s3:::bucket-${i}/*`,
    }));
    await expect(build(base({ session_policy: { Statement: statements } }))).rejects.toThrow(
      /profiles\.reports\.session_policy is \d+ characters .* at most 2048/,
    );
  });

  it("refuses a profile policy that is not an IAM policy, naming the profile", async () => {
    await expect(build(base({ session_policy: "{oops" }))).rejects.toThrow(
      /profiles\.reports\.session_policy/,
    );
  });

  it("refuses a plain-http endpoint that is not loopback", () => {
    expect(() => parseConfig(base({}, { endpoint: "http://sts.internal.example" }))).toThrow(ConfigError);
    expect(() => parseConfig(base({}, { endpoint: "http://127.0.0.1:4599/" }))).not.toThrow();
  });
});
