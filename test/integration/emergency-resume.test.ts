import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CredentialProvider } from "../../providers/provider.js";
import { ROOTS_PER_BATCH } from "../../src/revocation/emergency-run.js";
import { revocationKeys } from "../../src/revocation/revocation-keys.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { delegateTo } from "../support/provider-delegate.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";

/**
 * An emergency revocation whose worker dies mid-run: the api answers 202 before anything is closed, the
 * worker's run hangs in its first batch (its provider stops answering), that worker is shut down (its job
 * abandoned with the lock lapsing, as after a crash), and a second worker resumes the run from the stored
 * cursor. Truth is counted at the provider side: introspection of every token.
 */

const TASKS = ROOTS_PER_BATCH * 2 + 10;
const PER_TASK = 2;
/** The dying worker's provider answers this many revocations, then never again. */
const ANSWERED = 20;
const shared = {
  revocation: { job_lock_seconds: 1, reconcile_interval_seconds: 1 },
  limits: { open_tasks_per_principal: 1_000, requests_per_minute: 10_000 },
};

let api: Harness;
let dying: Harness;
let live: Harness | undefined;
const hung: (() => void)[] = [];
let answered = 0;

/** The signer as the dying worker sees it: after ANSWERED revocations, calls never return. */
const hangAfterSome = (providers: CredentialProvider[]) =>
  providers.map((provider) =>
    delegateTo(provider, {
      async revoke(request) {
        if (answered >= ANSWERED)
          return new Promise((_, reject) => hung.push(() => reject(new Error("worker gone"))));
        answered++;
        return provider.revoke(request);
      },
    }),
  );

beforeAll(async () => {
  api = await startHarness({ name: "emresume", role: "api", config: shared });
  dying = await startHarness({
    name: "emresume",
    role: "worker",
    prefix: api.prefix,
    issuer: api.issuer,
    config: shared,
    decorateProviders: hangAfterSome,
  });
}, 60_000);

afterAll(async () => {
  for (const release of hung) release();
  await live?.broker.close();
  await api?.close();
});

describe("emergency revocation: a worker dying mid-run", () => {
  it("answers at once; a second worker resumes the run and every credential ends revoked", {
    timeout: 120_000,
  }, async () => {
    const agent = await api.token("resume-target");
    const operator = await api.token("operator");
    const tokens: string[] = [];
    const taskIds: string[] = [];
    for (let i = 0; i < TASKS; i++) {
      const task = await api.call("POST", "/v1/tasks", {
        token: agent,
        body: { intent: "resume test", ttl_seconds: 600 },
      });
      expect(task.status, task.text).toBe(201);
      taskIds.push(task.body.task_id);
      for (let j = 0; j < PER_TASK; j++) {
        const cred = await api.call("POST", `/v1/tasks/${task.body.task_id}/credentials`, {
          token: agent,
          body: { profile: "tickets-api" },
        });
        expect(cred.status, cred.text).toBe(201);
        tokens.push(cred.body.secret.token);
      }
    }

    const started = await api.call("POST", "/v1/admin/revocations", {
      token: operator,
      body: { selector: { agent: "ci:resume-target" }, reason: "worker crash drill" },
    });
    expect(started.status, started.text).toBe(202);
    expect(started.body).toMatchObject({ tasks: TASKS, credentials: TASKS * PER_TASK, state: "running" });
    const id: string = started.body.revocation_id;
    const status = async () =>
      (await api.call("GET", `/v1/admin/revocations/${id}`, { token: operator })).body;

    // The dying worker is stuck inside its first batch: some revoked, the run not past that batch.
    await waitFor(async () => hung.length > 0, 20_000, "the dying worker's provider to hang");
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const progress = await redis.hgetall(revocationKeys(api.prefix).progress(id));
      expect(progress).toMatchObject({ phase: "closing", cursor: "0", claimed: "0" });
    } finally {
      redis.disconnect();
    }
    const midway = await status();
    expect(midway.state).toBe("running");
    expect(midway.progress.revoked).toBeLessThanOrEqual(ANSWERED);

    // Shut the dying worker down: its job cannot finish, so it is abandoned and its lock lapses.
    await dying.broker.close();
    live = await startHarness({
      name: "emresume",
      role: "worker",
      prefix: api.prefix,
      issuer: api.issuer,
      config: shared,
    });

    const done = await waitFor(
      async () => {
        const s = await status();
        return s.state === "completed" ? s : null;
      },
      60_000,
      "the resumed revocation to complete",
    );
    expect(done.progress).toEqual({
      revoked: TASKS * PER_TASK,
      expired: 0,
      not_issued: 0,
      revoking: 0,
      revoke_failed: 0,
    });
    for (const jwt of tokens) {
      const seen = await api.call("POST", "/v1/introspect", { token: operator, body: { token: jwt } });
      expect(seen.body).toEqual({ active: false });
    }
    for (const taskId of taskIds) {
      const task = await api.call("GET", `/v1/tasks/${taskId}`, { token: agent });
      expect(task.body).toMatchObject({ state: "closed", close_reason: "revoked" });
    }
  });
});
