import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { CredentialProvider } from "../../../providers/provider.js";
import { createProviderRegistry } from "../../../providers/registry.js";
import { credentialKeys } from "../../../src/credentials/credential-keys.js";
import { createCredentialStore } from "../../../src/credentials/credential-store.js";
import { createBrokerMetrics } from "../../../src/metrics/broker-metrics.js";
import { createRevokeCredential, nextRetryAt } from "../../../src/revocation/revoke-credential.js";
import { systemClock } from "../../../src/shared/clock.js";
import { createLogger } from "../../../src/shared/logger.js";
import { taskKeys } from "../../../src/tasks/task-keys.js";
import { pendingCredential } from "../../support/credential-fixture.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../../support/redis-keys.js";

const prefix = uniquePrefix("revokestalls");
const redis = new Redis(TEST_REDIS_URL);
afterAll(async () => {
  await deleteByPrefix(TEST_REDIS_URL, prefix);
  redis.disconnect();
});

describe("a revocation job", () => {
  it("whose workers died max_job_stalls times is not run again: the credential is visibly revoke_failed (stalled)", async () => {
    const credentials = createCredentialStore({ redis, keyPrefix: prefix, now: () => Date.now() });
    const credential = pendingCredential({
      id: "crd_stalled",
      taskId: "tsk_stalled",
      agent: "ci:a",
      profile: "tickets-api",
      provider: "signer",
    });
    await redis.hset(
      taskKeys(prefix).task("tsk_stalled"),
      "state",
      "open",
      "deadline",
      String(Date.now() + 60_000),
    );
    expect(await credentials.createPending(credential, Date.now())).toBe("ok");
    await credentials.transition(credential, ["pending"], "revoking", { handle: "h" });
    let called = 0;
    const provider = {
      kind: "signer",
      revoke: async () => {
        called++;
      },
    } as unknown as CredentialProvider;
    const revoke = createRevokeCredential({
      credentials,
      providers: createProviderRegistry([provider]),
      closer: { completeIfSettled: async () => false },
      audit: { append: async () => ({}) as never },
      metrics: createBrokerMetrics(),
      clock: systemClock,
      logger: createLogger({ level: "silent" }),
      pendingGraceMs: 1_000,
      failedRetryIntervalMs: 60_000,
      maxStalls: 3,
    });
    const ref = { credentialId: credential.id, taskId: credential.taskId };
    await revoke(ref, { made: 0, max: 8, stalls: 3 });
    expect(called).toBe(0);
    const failed = await credentials.getInTask(credential.taskId, credential.id);
    expect(failed).toMatchObject({ state: "revoke_failed", failureKind: "stalled" });
    expect(failed?.lastError).toMatch(/died 3 times/);
    // Stalled failures are retried on schedule like exhausted ones.
    expect(await redis.zscore(credentialKeys(prefix).retryDue, credential.id)).not.toBeNull();
  });

  it("scheduled retries of a revoke_failed credential wait twice as long each time, at most a day", () => {
    const base = 600_000;
    expect(nextRetryAt(0, base, 0)).toBe(600_000);
    expect(nextRetryAt(0, base, 1)).toBe(1_200_000);
    expect(nextRetryAt(0, base, 3)).toBe(4_800_000);
    expect(nextRetryAt(0, base, 30)).toBe(86_400_000);
  });
});
