import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createCredentialStore } from "../../../src/credentials/credential-store.js";
import { createReconciler } from "../../../src/revocation/reconciler.js";
import type { TaskCloser } from "../../../src/revocation/task-closer.js";
import { systemClock } from "../../../src/shared/clock.js";
import { createLogger } from "../../../src/shared/logger.js";
import { createTaskStore } from "../../../src/tasks/task-store.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../../support/redis-keys.js";
import { task } from "../evidence/evidence-fixtures.js";

/** A reconcile pass costs the same however many tasks are open: it repairs one batch and wraps round. */

const prefix = uniquePrefix("sweep");
const redis = new Redis(TEST_REDIS_URL);
afterAll(async () => {
  await deleteByPrefix(TEST_REDIS_URL, prefix);
  redis.disconnect();
});

describe("the reconciler's open-task sweep", () => {
  it("examines one batch per pass, reaches every open task within a round, and re-arms only deadlines due soon", async () => {
    const tasks = createTaskStore({ redis, keyPrefix: prefix });
    const now = Date.now();
    await tasks.create(task({ id: "tsk_parent", state: "closed", deadline: now + 3_600_000 }));
    const orphans = Array.from({ length: 1_100 }, (_, i) => `tsk_orphan${String(i).padStart(4, "0")}`);
    for (const [i, id] of orphans.entries()) {
      await tasks.create(
        task({ id, parentId: "tsk_parent", rootId: "tsk_parent", depth: 1, deadline: now + 3_600_000 + i }),
      );
    }
    await tasks.create(task({ id: "tsk_soon", deadline: now + 500 }));
    const closed = new Set<string>();
    const closer = {
      closeTree: async (taskId: string) => {
        closed.add(taskId);
        return null;
      },
      revokeCredentialsOf: async () => 0,
      completeIfSettled: async () => false,
    } as unknown as TaskCloser;
    const scheduled: string[] = [];
    const reconcile = createReconciler({
      tasks,
      credentials: createCredentialStore({ redis, keyPrefix: prefix, now: () => Date.now() }),
      closer,
      queue: {
        enqueueRevocations: async () => undefined,
        scheduleDeadline: async (taskId: string) => void scheduled.push(taskId),
        enqueueEmergency: async () => undefined,
      },
      revocations: { running: async () => [] },
      audit: { append: async () => ({}) as never },
      clock: systemClock,
      logger: createLogger({ level: "silent" }),
      pendingGraceMs: 60_000,
      intervalMs: 1_000,
    });
    const first = await reconcile();
    // One batch of 300 index entries (the soon-due task and the closed parent are among them).
    expect(first.orphansClosed).toBe(298);
    expect(scheduled).toEqual(["tsk_soon"]);
    let passes = 1;
    const orphansClosed = () => [...closed].filter((id) => id.startsWith("tsk_orphan")).length;
    while (orphansClosed() < orphans.length && passes < 10) {
      await reconcile();
      passes++;
    }
    expect([...closed].filter((id) => id.startsWith("tsk_orphan")).sort()).toEqual(orphans);
    // 1,102 entries in batches of 300: one round is four passes; entries that left the index meanwhile
    // shift the rest, so at most one more pass picks up what a shift skipped.
    expect(passes).toBeLessThanOrEqual(5);
  }, 30_000);
});
