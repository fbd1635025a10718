import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { credentialKeys } from "../../../src/credentials/credential-keys.js";
import { createCredentialStore } from "../../../src/credentials/credential-store.js";
import { taskKeys } from "../../../src/tasks/task-keys.js";
import { pendingCredential } from "../../support/credential-fixture.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../../support/redis-keys.js";

const prefix = uniquePrefix("credtransitions");
const redis = new Redis(TEST_REDIS_URL);
const store = createCredentialStore({ redis, keyPrefix: prefix, now: () => Date.now() });
afterAll(async () => {
  await deleteByPrefix(TEST_REDIS_URL, prefix);
  redis.disconnect();
});

async function openTaskWith(id: string) {
  await redis.hset(
    taskKeys(prefix).task(id),
    "state",
    "open",
    "deadline",
    String(Date.now() + 60_000),
    "unsettled",
    "0",
  );
  const credential = pendingCredential({
    id: `crd_${id}`,
    taskId: id,
    agent: "ci:a",
    profile: "p",
    provider: "signer",
  });
  expect(await store.createPending(credential, Date.now())).toBe("ok");
  return credential;
}
const unsettled = (taskId: string) => store.unsettledCount(taskId);

describe("credential state transitions", () => {
  it("move only from an expected state, and keep the task's unsettled count exact", async () => {
    const credential = await openTaskWith("tsk_t1");
    expect(await unsettled("tsk_t1")).toBe(1);
    expect(await store.transition(credential, ["active"], "revoking")).toEqual({
      moved: false,
      current: "pending",
    });
    expect(await store.transition(credential, ["pending"], "revoking")).toEqual({
      moved: true,
      previous: "pending",
    });
    expect(
      await store.transition(credential, ["revoking"], "revoke_failed", { retry_at: "1" }),
    ).toMatchObject({
      moved: true,
    });
    expect(await unsettled("tsk_t1")).toBe(1);
    expect(await store.transition(credential, ["revoke_failed"], "resolved")).toMatchObject({ moved: true });
    expect(await unsettled("tsk_t1")).toBe(0);
  });

  it("keep the reconciler's indexes in step: pending, revoke_failed and its retry schedule", async () => {
    const credential = await openTaskWith("tsk_t2");
    const keys = credentialKeys(prefix);
    expect(await redis.zscore(keys.pending, credential.id)).not.toBeNull();
    await store.transition(credential, ["pending"], "revoking");
    expect(await redis.zscore(keys.pending, credential.id)).toBeNull();
    await store.transition(credential, ["revoking"], "revoke_failed", { retry_at: "12345" });
    expect(await redis.zscore(keys.failed, credential.id)).not.toBeNull();
    expect(await redis.zscore(keys.retryDue, credential.id)).toBe("12345");
    expect(await store.retryDueBy(20_000, 10)).toContain(credential.id);
    await store.transition(credential, ["revoke_failed"], "revoking");
    expect(await redis.zscore(keys.failed, credential.id)).toBeNull();
    expect(await redis.zscore(keys.retryDue, credential.id)).toBeNull();
  });

  it("a permanent failure (no retry_at) is listed but never scheduled", async () => {
    const credential = await openTaskWith("tsk_t3");
    await store.transition(credential, ["pending"], "revoking");
    await store.transition(credential, ["revoking"], "revoke_failed", { failure_kind: "permanent" });
    expect(await store.failedPage(100, 0)).toContain(credential.id);
    expect(await store.retryDueBy(Number.MAX_SAFE_INTEGER, 100)).not.toContain(credential.id);
    expect((await store.getInTask("tsk_t3", credential.id))?.failureKind).toBe("permanent");
  });
});
