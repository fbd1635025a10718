import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromProcess } from "@aws-sdk/credential-provider-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCredentialProvider, createBrokerClient } from "../../src/client/index.js";
import { REPORTS_POLICY } from "../sims/sts/sts-fixture.js";
import { type StsSim, startStsSim } from "../sims/sts/sts-sim.js";
import { type Harness, startHarness } from "../support/broker-harness.js";

/**
 * Task-bound STS credentials where AWS tools expect them: the `credential_process` JSON the AWS SDK's own
 * process provider reads, and an SDK v3 credential provider; both used by the real STS client.
 */

const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
let sim: StsSim;
let h: Harness;
let dir: string;
let role: { arn: string };

beforeAll(async () => {
  sim = await startStsSim();
  role = sim.createRole({ name: "reports" });
  h = await startHarness({
    name: "awscreds",
    config: {
      providers: { sts: { region: "us-east-1", endpoint: sim.url, iam_endpoint: sim.url, max_attempts: 2 } },
      profiles: {
        "reports-ro": {
          provider: "sts",
          role_arn: role.arn,
          session_policy: REPORTS_POLICY,
          max_ttl_seconds: 3600,
        },
      },
    },
    env: {
      AWS_ACCESS_KEY_ID: sim.brokerUser.accessKeyId,
      AWS_SECRET_ACCESS_KEY: sim.brokerUser.secretAccessKey,
    },
  });
  dir = mkdtempSync(path.join(tmpdir(), "credbroker-aws-"));
}, 30_000);

afterAll(async () => {
  await h?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sts = (credentials: NonNullable<ConstructorParameters<typeof STSClient>[0]>["credentials"]) =>
  new STSClient({ region: "us-east-1", endpoint: sim.url, credentials });

describe("STS credentials for AWS tools", () => {
  it("credential_process: the AWS SDK's process provider reads it and STS accepts the session", {
    timeout: 60_000,
  }, async () => {
    const agent = await h.token("aws-agent");
    const task = await h.call("POST", "/v1/tasks", {
      token: agent,
      body: { intent: "aws", ttl_seconds: 3600 },
    });
    const tokenFile = path.join(dir, "agent.token");
    writeFileSync(tokenFile, agent);
    const command = [
      process.execPath,
      BIN,
      "aws",
      "credential-process",
      "--task",
      task.body.task_id,
      "--profile",
      "reports-ro",
      "--url",
      h.baseUrl,
      "--token-file",
      tokenFile,
    ];
    const { stdout } = await promisify(execFile)(command[0] as string, command.slice(1), {
      env: { PATH: process.env.PATH },
    });
    expect(JSON.parse(stdout)).toMatchObject({ Version: 1, AccessKeyId: expect.stringMatching(/^ASIA/) });

    const config = path.join(dir, "config");
    writeFileSync(
      config,
      `[profile task]\ncredential_process = ${command.map((part) => `"${part}"`).join(" ")}\n`,
    );
    const credentials = fromProcess({ profile: "task", filepath: config, configFilepath: config });
    const identity = await sts(credentials).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toMatch(/^arn:aws:sts::\d+:assumed-role\/reports\//);
  });

  it("the SDK helper is an AWS SDK v3 credential provider bound to the task", async () => {
    const agent = await h.token("aws-sdk-agent");
    const broker = createBrokerClient({ url: h.baseUrl, assertion: agent });
    await using task = await broker.openTask({ intent: "aws sdk", ttlSeconds: 3600 });
    const identity = await sts(awsCredentialProvider(task, "reports-ro")).send(
      new GetCallerIdentityCommand({}),
    );
    expect(identity.Arn).toMatch(/assumed-role\/reports\//);
  });
});
