import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditCheckpoints } from "../../src/audit/audit-checkpoints.js";
import { auditKeys } from "../../src/audit/audit-keys.js";
import { createAuditSealer } from "../../src/audit/audit-sealer.js";
import { createCredentialStore } from "../../src/credentials/credential-store.js";
import { systemClock } from "../../src/shared/clock.js";
import { newId } from "../../src/shared/ids.js";
import { createLogger } from "../../src/shared/logger.js";
import { createTaskStore } from "../../src/tasks/task-store.js";
import { type Harness, startHarness } from "../support/broker-harness.js";
import { pendingCredential } from "../support/credential-fixture.js";
import { countCommands } from "../support/redis-commands.js";
import { redisServerMissing, type StandaloneRedis, startStandalone } from "../support/redis-servers.js";
import { task } from "../unit/evidence/evidence-fixtures.js";

/**
 * The periodic passes cost the same Redis commands at a small and at a ten times larger store: the
 * reconciler (open tasks, closing tasks held only by revoke_failed credentials) and the audit sealer (many
 * checkpoints). On a redis-server of its own, so INFO commandstats counts only this broker.
 */

const missing = redisServerMissing();
let server: StandaloneRedis;
let h: Harness;
let redis: Redis;

beforeAll(async () => {
  if (missing) return;
  server = await startStandalone();
  // A long reconcile interval: only the passes the test runs count.
  h = await startHarness({
    name: "periodic",
    redis: { url: server.url },
    config: { revocation: { reconcile_interval_seconds: 3600 } },
  });
  redis = new Redis(server.url);
}, 60_000);

afterAll(async () => {
  if (missing) return;
  redis?.disconnect();
  await h?.close();
  await server?.stop();
});

const commands = async <T>(run: () => Promise<T>): Promise<number> =>
  (await countCommands(redis, run)).commands;

/** Bytes Redis sent to its clients while `run` ran (its replies: what a pass read). */
async function bytesOut<T>(run: () => Promise<T>): Promise<number> {
  const sent = async () => Number(/total_net_output_bytes:(\d+)/.exec(await redis.info("stats"))?.[1]);
  const before = await sent();
  await run();
  return (await sent()) - before;
}

/** Deadlines beyond two reconcile intervals: no deadline is due soon, so no pass re-arms one. */
const FAR = 3 * 3_600_000;

/** Open tasks, and closing tasks held only by a permanently failed revocation (as after an outage). */
async function grow(open: number, stuck: number): Promise<void> {
  const tasks = createTaskStore({ redis, keyPrefix: h.prefix });
  const credentials = createCredentialStore({ redis, keyPrefix: h.prefix, now: () => Date.now() });
  const now = Date.now();
  for (let i = 0; i < open; i++) await tasks.create(task({ id: newId("tsk"), deadline: now + FAR }));
  for (let i = 0; i < stuck; i++) {
    const id = newId("tsk");
    await tasks.create(task({ id, deadline: now + FAR }));
    for (let j = 0; j < 5; j++) {
      const credential = pendingCredential({
        id: newId("crd"),
        taskId: id,
        agent: "ci:x",
        profile: "tickets-api",
        provider: "signer",
      });
      await credentials.createPending(credential, now);
      await credentials.transition(credential, ["pending"], "revoking");
      await credentials.transition(credential, ["revoking"], "revoke_failed", { failure_kind: "permanent" });
    }
    await tasks.beginClose(id, "closed", now - 7_200_000);
  }
}

describe.skipIf(missing)("periodic passes", () => {
  it("a reconciler pass costs the same commands at 10x the open and stuck-closing tasks, at most 1,000", {
    timeout: 120_000,
  }, async () => {
    const worker = h.broker.worker;
    if (!worker) throw new Error("no worker");
    // The costliest of three passes (the sweeps' cursors wrap, so a pass may get a short batch).
    const costliest = async () =>
      Math.max(
        await commands(() => worker.reconcileNow()),
        await commands(() => worker.reconcileNow()),
        await commands(() => worker.reconcileNow()),
      );
    await grow(600, 120);
    const small = await costliest();
    await grow(5_400, 1_080);
    const big = await costliest();
    expect(big).toBeLessThanOrEqual(1_000);
    // The sweeps' batches are full at both sizes: the pass does not grow with the store.
    expect(big).toBeLessThanOrEqual(small * 1.1 + 20);
    expect(small).toBeGreaterThan(300);
  });

  it("a sealing pass reads the same with 3 and with 300 checkpoints", async () => {
    const checkpoints = createAuditCheckpoints({
      redis,
      keyPrefix: h.prefix,
      clock: systemClock,
      signer: h.broker.signer.documents,
      publishedKeys: async () => ({ keys: [] }),
    });
    const seal = createAuditSealer({
      redis,
      keyPrefix: h.prefix,
      checkpoints,
      clock: systemClock,
      logger: createLogger({ level: "silent" }),
      options: { everyEvents: 1_000_000, intervalMs: 3_600_000, retentionMs: 30 * 86_400_000 },
    });
    const key = auditKeys(h.prefix).checkpoints;
    const opened = await h.call("POST", "/v1/tasks", {
      token: await h.token("sealing"),
      body: { intent: "an event to sign", ttl_seconds: 60 },
    });
    expect(opened.status, opened.text).toBe(201);
    await checkpoints.checkpoint();
    const [newest] = await redis.zrange(key, "-1", "-1");
    const template = JSON.parse(newest ?? "{}");
    const add = async (n: number) => {
      for (let i = 0; i < n; i++)
        await redis.zadd(
          key,
          i + 1,
          JSON.stringify({ ...template, seq: i + 1, time: new Date().toISOString() }),
        );
    };
    await redis.del(key);
    await add(3);
    await seal();
    const small = { commands: await commands(() => seal()), bytes: await bytesOut(() => seal()) };
    await add(300);
    const big = { commands: await commands(() => seal()), bytes: await bytesOut(() => seal()) };
    expect(big.commands).toBe(small.commands);
    // INFO's own reply varies by a few bytes; 300 checkpoints would be hundreds of kilobytes.
    expect(big.bytes).toBeLessThan(small.bytes + 2_000);
  });
});
