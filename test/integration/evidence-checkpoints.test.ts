import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditKeys } from "../../src/audit/audit-keys.js";
import type { EvidenceReport } from "../../src/evidence/evidence-types.js";
import { expectApiError } from "../support/api-errors.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";

const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
/** Each CLI run starts a process that loads the TypeScript sources: allow for a loaded machine. */
const SLOW = 120_000;

let h: Harness;
let dir: string;
let operator: string;
let planner: string;
let operatorTokenFile: string;

/** Runs `credbroker <args>` as the operator against the harness broker. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CREDBROKER_URL: h.baseUrl };
  delete env.CREDBROKER_TOKEN;
  delete env.CREDBROKER_TOKEN_FILE;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: SLOW }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function report(taskId: string): Promise<EvidenceReport> {
  const res = await h.call("GET", `/v1/tasks/${taskId}/evidence`, { token: planner });
  expect(res.status, res.text).toBe(200);
  return res.body as EvidenceReport;
}

/** A task with a credential, closed: the activity an incident review reads right afterwards. */
async function activity(): Promise<string> {
  const opened = await h.call("POST", "/v1/tasks", {
    token: planner,
    body: { intent: "rotate the on-call rota", ttl_seconds: 600 },
  });
  expect(opened.status, opened.text).toBe(201);
  const taskId: string = opened.body.task_id;
  const issued = await h.call("POST", `/v1/tasks/${taskId}/credentials`, {
    token: planner,
    body: { profile: "tickets-api", scopes: ["tickets:read"] },
  });
  expect(issued.status, issued.text).toBe(201);
  await h.call("POST", `/v1/tasks/${taskId}/close`, { token: planner, body: { reason: "done" } });
  await waitFor(async () => (await report(taskId)).tasks[0]?.state === "closed", 10_000, "the task to close");
  return taskId;
}

beforeAll(async () => {
  // The default cadence (a checkpoint every 300 s or 1000 events) after the first one.
  h = await startHarness({ name: "evidence-seal" });
  operator = await h.token("operator");
  planner = await h.token("planner");
  dir = mkdtempSync(path.join(tmpdir(), "credbroker-seal-"));
  operatorTokenFile = path.join(dir, "operator.token");
  writeFileSync(operatorTokenFile, await h.token("operator", { exp: Math.floor(Date.now() / 1000) + 3600 }));
  await waitFor(
    async () => (await h.call("GET", "/v1/audit/checkpoints", { token: operator })).body.checkpoints.length,
    10_000,
    "the first checkpoint",
  );
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("signed-checkpoint coverage of an evidence report", () => {
  it("right after activity, the report says none of its events is covered yet", async () => {
    const r = await report(await activity());
    const seqs = r.timeline.map((e) => e.seq);
    expect(seqs.length).toBeGreaterThan(5);
    expect(r.chain.checkpoints).toMatchObject({
      covered_events: 0,
      uncovered_events: seqs.length,
      uncovered_seqs: seqs,
      latest: { signature_valid: true },
    });
    expect(r.chain.checkpoints.latest!.seq).toBeLessThan(seqs[0]!);
  });

  it("POST /v1/audit/checkpoints seals now, under RotateKeys: then every earlier event is covered", async () => {
    const taskId = await activity();
    const before = await report(taskId);
    expectApiError(await h.call("POST", "/v1/audit/checkpoints", { token: planner }), 403, "policy_denied");
    expectApiError(
      await h.call("POST", "/v1/audit/checkpoints", { token: operator, body: { seq: 1 } }),
      400,
      "invalid_request",
    );
    const sealed = await h.call("POST", "/v1/audit/checkpoints", { token: operator });
    expect(sealed.status, sealed.text).toBe(201);
    expect(sealed.body).toMatchObject({
      created: true,
      checkpoint: {
        seq: expect.any(Number),
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        jws: expect.any(String),
      },
    });
    expect(sealed.body.checkpoint.seq).toBeGreaterThan(before.timeline.at(-1)!.seq);

    const after = await report(taskId);
    const coverage = after.chain.checkpoints;
    expect(coverage.covered_through_seq).toBe(sealed.body.checkpoint.seq);
    // Reads of the report are accesses, not the task's events: after the seal, every cited event is covered.
    expect(coverage.uncovered_seqs).toEqual([]);
    expect(coverage.covered_events).toBe(after.timeline.length);
    expect(coverage.covered_events).toBeGreaterThanOrEqual(before.timeline.length);
  });

  it(
    "credbroker audit seal covers the report's events, and an export verifies offline through that seal",
    async () => {
      const taskId = await activity();
      const before = await report(taskId);
      expect(before.chain.checkpoints.uncovered_events).toBeGreaterThan(1);
      const sealed = await cli(["audit", "seal", "--token-file", operatorTokenFile]);
      expect(sealed.code, sealed.stderr).toBe(0);
      const match = /^audit chain sealed through seq (\d+): every event up to it is covered/.exec(
        sealed.stdout,
      );
      expect(match, sealed.stdout).not.toBeNull();
      const sealedSeq = Number(match![1]);

      const after = await report(taskId);
      expect(after.chain.checkpoints.covered_through_seq).toBe(sealedSeq);
      expect(after.chain.checkpoints.uncovered_seqs).toEqual([]);

      const file = path.join(dir, "audit.jsonl");
      const exported = await cli(["audit", "export", "--out", file, "--token-file", operatorTokenFile]);
      expect(exported.code, exported.stderr).toBe(0);
      const verified = await cli([
        "audit",
        "verify",
        "--file",
        file,
        "--jwks",
        `${h.baseUrl}/.well-known/jwks.json`,
        "--json",
      ]);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      const result = JSON.parse(verified.stdout);
      expect(result).toMatchObject({ valid: true, coverage: "complete" });
      expect(result.signed_through_seq).toBeGreaterThanOrEqual(sealedSeq);
      const exportedHashes = new Map(
        readFileSync(file, "utf8")
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line))
          .filter((line) => line.kind === "event")
          .map((event) => [event.seq, event.hash]),
      );
      for (const event of after.timeline.filter((e) => e.seq <= sealedSeq)) {
        expect(exportedHashes.get(event.seq), `seq ${event.seq}`).toBe(event.hash);
      }
    },
    SLOW,
  );
});

describe("sealing under the seal lock", () => {
  it("a seal request waits while a sealing pass holds the lock, signs once it is free, and leaves others' locks alone", async () => {
    const redis = new Redis(TEST_REDIS_URL);
    const lock = auditKeys(h.prefix).sealLock;
    try {
      await redis.set(lock, "another-sealer", "PX", 30_000);
      let answered = false;
      const sealing = h.call("POST", "/v1/audit/checkpoints", { token: operator }).finally(() => {
        answered = true;
      });
      // That it does not answer can only be seen over a window: a fifth of a second of its 5 s wait.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(answered).toBe(false);
      expect(await redis.get(lock)).toBe("another-sealer");
      await redis.del(lock);
      const sealed = await sealing;
      expect(sealed.status, sealed.text).toBe(201);
      expect(await redis.get(lock)).toBeNull();
    } finally {
      await redis.del(lock);
      redis.disconnect();
    }
  });
});
