import { Redis } from "ioredis";
import type { CredentialProvider, IssuedCredential, IssueRequest } from "../../../providers/provider.js";
import { buildStsProvider } from "../../../providers/sts/sts-builder.js";
import { parseConfig } from "../../../src/config/load-config.js";
import { profilesOf, providerHost } from "../../../src/providers-setup/provider-context.js";
import { newId } from "../../../src/shared/ids.js";
import { createLogger } from "../../../src/shared/logger.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../../support/redis-keys.js";
import { createTestClock, type TestClock } from "../../support/test-clock.js";
import { type StsSim, startStsSim } from "./sts-sim.js";

/**
 * The STS provider as the broker builds it (config → builder → SDK clients with the default-chain seam),
 * against the simulator and the real Redis under a prefix of its own.
 */

/** What the fixture's `reports-ro` profile allows: reading objects under `reports/`. */
export const REPORTS_POLICY = {
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: "arn:aws:s3:::reports/*" },
  ],
};
export const READ_REPORT = { action: "s3:GetObject", resource: "arn:aws:s3:::reports/q3.csv" } as const;

export interface StsFixtureOptions {
  name: string;
  clock?: TestClock;
  maxAttempts?: number;
  timeoutMs?: number;
  roleMaxSessionSeconds?: number;
  profileMaxTtlSeconds?: number;
}

export interface StsFixture {
  sim: StsSim;
  role: { name: string; arn: string; roleId: string };
  provider: CredentialProvider;
  clock: TestClock;
  redis: Redis;
  prefix: string;
  /** Issues a `reports-ro` credential for a fresh credential id under `taskId`. */
  issue(overrides?: Partial<IssueRequest>): Promise<{ request: IssueRequest; issued: IssuedCredential }>;
  /** Another provider over the same simulator, Redis prefix and clock: a second broker replica. */
  replica(): Promise<CredentialProvider>;
  /** Whether the simulator would honour the issued keys for reading a report right now. */
  canRead(issued: IssuedCredential, at?: number): boolean;
  close(): Promise<void>;
}

export async function startStsFixture(options: StsFixtureOptions): Promise<StsFixture> {
  const clock = options.clock ?? createTestClock();
  const sim = await startStsSim({ clock });
  const role = sim.createRole({
    name: `task-role-${options.name}`,
    maxSessionDuration: options.roleMaxSessionSeconds,
  });
  const prefix = uniquePrefix(`sts-${options.name}`);
  const redis = new Redis(TEST_REDIS_URL);
  const config = parseConfig({
    server: { audience: "credbroker-test", public_url: "http://127.0.0.1:1" },
    redis: { url: TEST_REDIS_URL, key_prefix: prefix },
    providers: {
      sts: {
        region: "us-east-1",
        endpoint: sim.url,
        iam_endpoint: sim.url,
        max_attempts: options.maxAttempts ?? 1,
        timeout_ms: options.timeoutMs ?? 2_000,
      },
    },
    profiles: {
      "reports-ro": {
        provider: "sts",
        role_arn: role.arn,
        session_policy: REPORTS_POLICY,
        max_ttl_seconds: options.profileMaxTtlSeconds ?? 3600,
      },
    },
  });
  const replicas: { provider: CredentialProvider; redis: Redis }[] = [];
  async function build(connection: Redis): Promise<CredentialProvider> {
    const host = providerHost({
      config,
      configDir: ".",
      redis: connection,
      clock,
      env: {
        AWS_ACCESS_KEY_ID: sim.brokerUser.accessKeyId,
        AWS_SECRET_ACCESS_KEY: sim.brokerUser.secretAccessKey,
      },
      logger: createLogger({ level: "silent" }),
    });
    return buildStsProvider({ config: config.providers.sts!, profiles: profilesOf(config, "sts") }, host);
  }
  const provider = await build(redis);

  return {
    sim,
    role,
    provider,
    clock,
    redis,
    prefix,
    async issue(overrides = {}) {
      const request: IssueRequest = {
        credentialId: newId("crd"),
        taskId: newId("tsk"),
        agent: "ci:summariser",
        owner: "ci:orchestrator",
        initiator: { subject: "alice@example.com", verified: true },
        profile: "reports-ro",
        ttlSeconds: 900,
        scopes: [],
        taskDeadline: clock.now() + 3_600_000,
        actChain: [],
        ...overrides,
      };
      return { request, issued: await provider.issue(request) };
    },
    async replica() {
      const connection = new Redis(TEST_REDIS_URL);
      const replica = await build(connection);
      replicas.push({ provider: replica, redis: connection });
      return replica;
    },
    canRead(issued, at) {
      return sim.isAllowed(String(issued.secret.access_key_id), READ_REPORT.action, READ_REPORT.resource, at);
    },
    async close() {
      for (const replica of replicas) {
        await replica.provider.close();
        replica.redis.disconnect();
      }
      await provider.close();
      await sim.close();
      redis.disconnect();
      await deleteByPrefix(TEST_REDIS_URL, prefix);
    },
  };
}
