import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashEvent } from "../../src/audit/audit-chain.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { type Faults, newFaults, withFaults } from "../support/faulty-provider.js";
import { TEST_POLICY_WITH_APPROVALS } from "../support/test-policy.js";

const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
/** Each CLI run starts a process that loads the TypeScript sources: allow for a loaded machine. */
const SLOW = 120_000;

const POLICY = TEST_POLICY_WITH_APPROVALS;

let h: Harness;
let dir: string;
const faults: Faults = newFaults();
const tokenFiles: Record<string, string> = {};

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `credbroker <args>` against the harness broker. `as` names a principal whose token is passed with
 * --token-file; `env` adds variables (CREDBROKER_* from the test's own environment never leak in).
 */
function cli(args: string[], options: { as?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, CREDBROKER_URL: h.baseUrl, ...options.env };
  if (!options.env?.CREDBROKER_TOKEN) delete env.CREDBROKER_TOKEN;
  if (!options.env?.CREDBROKER_TOKEN_FILE) delete env.CREDBROKER_TOKEN_FILE;
  const tokenArgs = options.as ? ["--token-file", tokenFile(options.as)] : [];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, ...tokenArgs],
      { env, timeout: SLOW },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

function tokenFile(sub: string): string {
  const file = tokenFiles[sub];
  if (!file) throw new Error(`no token file for ${sub}: add it in beforeAll`);
  return file;
}

async function openTaskWithCredential(agentSub: string, intent: string) {
  const token = await h.token(agentSub);
  const task = (await h.call("POST", "/v1/tasks", { token, body: { intent, ttl_seconds: 600 } })).body;
  const credential = await h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
    token,
    body: { profile: "tickets-api", scopes: ["tickets:read"], reason: "read tickets" },
  });
  expect(credential.status).toBe(201);
  return { task, credential: credential.body, token };
}

/** A task whose write request an approver approved (and the agent redeemed) or denied. */
async function approvalTask(agentSub: string, verdict: "approve" | "deny", comment: string) {
  const token = await h.token(agentSub);
  const task = (await h.call("POST", "/v1/tasks", { token, body: { intent: "write", ttl_seconds: 600 } }))
    .body;
  const held = await h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
    token,
    body: { profile: "tickets-api", scopes: ["tickets:write"], reason: "close dupes" },
  });
  expect(held.status, held.text).toBe(202);
  const approvalId: string = held.body.approval_id;
  const decided = await h.call("POST", `/v1/approvals/${approvalId}/${verdict}`, {
    token: await h.token("approver-carol"),
    body: { comment },
  });
  expect(decided.status, decided.text).toBe(200);
  if (verdict === "approve") {
    const redeemed = await h.call("GET", `/v1/approvals/${approvalId}`, { token });
    expect(redeemed.body.credential?.credential_id).toBeDefined();
  }
  return { taskId: task.task_id as string, approvalId };
}

/** A root task with a child delegated to another agent, which holds a credential. */
async function delegatedTask() {
  const planner = await h.token("evidence-planner");
  const root = await h.call("POST", "/v1/tasks", {
    token: planner,
    body: { intent: "plan", ttl_seconds: 600 },
  });
  const child = await h.call("POST", "/v1/tasks", {
    token: planner,
    body: { intent: "do", ttl_seconds: 300, parent_task_id: root.body.task_id, agent: "ci:evidence-doer" },
  });
  expect(child.status, child.text).toBe(201);
  const credential = await h.call("POST", `/v1/tasks/${child.body.task_id}/credentials`, {
    token: await h.token("evidence-doer"),
    body: { profile: "reports-api" },
  });
  expect(credential.status, credential.text).toBe(201);
  return {
    rootId: root.body.task_id as string,
    childId: child.body.task_id as string,
    credentialId: credential.body.credential_id as string,
  };
}

const taskState = async (taskId: string, token: string) =>
  (await h.call("GET", `/v1/tasks/${taskId}`, { token })).body;

beforeAll(async () => {
  h = await startHarness({
    name: "cli",
    policy: POLICY,
    decorateProviders: withFaults(faults),
    config: { audit: { checkpoint_interval_seconds: 0.2, checkpoint_every_events: 5 } },
  });
  dir = mkdtempSync(path.join(tmpdir(), "credbroker-cli-"));
  for (const sub of ["operator", "lister", "approver-carol", "summariser"]) {
    tokenFiles[sub] = path.join(dir, `${sub}.token`);
    writeFileSync(tokenFiles[sub], `${await h.token(sub, { exp: Math.floor(Date.now() / 1000) + 3600 })}\n`);
  }
});

afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("operator CLI: configuration and errors", () => {
  it(
    "a missing token or a rejected one exits 2, a refused request or a bad command line exits 1",
    async () => {
      const [noToken, badToken, refused, usage, unreadable] = await Promise.all([
        cli(["tasks", "ls"]),
        cli(["tasks", "ls"], { env: { CREDBROKER_TOKEN: "not-a-jwt" } }),
        cli(["keys", "rotate", "--yes"], { as: "lister" }),
        cli(["revoke", "--agent", "x", "--all", "--reason", "two selectors"], { as: "operator" }),
        cli(["tasks", "ls", "--token-file", path.join(dir, "missing.token")]),
      ]);
      expect(noToken.code, noToken.stderr).toBe(2);
      expect(noToken.stderr).toContain("credbroker: no token: pass --token-file");
      expect(badToken.code, badToken.stderr).toBe(2);
      expect(badToken.stderr).toMatch(/^credbroker: 401 invalid_assertion: /);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(/^credbroker: 403 policy_denied: /);
      expect(usage.code).toBe(1);
      expect(usage.stderr).toContain("choose exactly one of --task, --agent");
      expect(unreadable.code).toBe(2);
      expect(unreadable.stderr).toContain("cannot read the token file");
    },
    SLOW,
  );
});

describe("operator CLI against a live broker", () => {
  it(
    "tasks ls shows a table and --json the API's answer; tasks show reads a task its caller may see",
    async () => {
      const { task, credential } = await openTaskWithCredential("lister-agent", "Summarise Q3 incidents");
      const [table, json, shown, hidden] = await Promise.all([
        cli(["tasks", "ls", "--agent", "ci:lister-agent"], { as: "operator" }),
        cli(["tasks", "ls", "--agent", "ci:lister-agent", "--state", "open", "--json"], { as: "operator" }),
        cli(["tasks", "show", task.task_id], { env: { CREDBROKER_TOKEN: await h.token("lister-agent") } }),
        cli(["tasks", "show", task.task_id], { as: "operator" }),
      ]);
      expect(table.code, table.stderr).toBe(0);
      const [header, row] = table.stdout.split("\n");
      expect(header).toMatch(/^TASK\s+STATE\s+AGENT\s+INITIATOR\s+CREDS\s+CREATED\s+DEADLINE\s+INTENT$/);
      expect(row).toContain(task.task_id);
      expect(row).toContain("Summarise Q3 incidents");
      expect(JSON.parse(json.stdout)).toMatchObject({
        tasks: [{ task_id: task.task_id, state: "open", agent: "ci:lister-agent" }],
      });
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`^task:\\s+${task.task_id}$`, "m"));
      expect(shown.stdout).toContain(credential.credential_id);
      expect(hidden.code).toBe(1);
      expect(hidden.stderr).toContain("404 not_found");
      expect(hidden.stderr).toContain(`credbroker evidence ${task.task_id}`);
    },
    SLOW,
  );

  it(
    "revoke --dry-run only counts; revoke --wait closes the matching tasks and reports progress",
    async () => {
      const first = await openTaskWithCredential("revoke-target", "first");
      const second = await openTaskWithCredential("revoke-target", "second");
      const dry = await cli(["revoke", "--agent", "ci:revoke-target", "--dry-run", "--reason", "drill"], {
        as: "operator",
      });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(
        /dry run, nothing revoked: agent=ci:revoke-target matches 2 task\(s\).* 2 live/,
      );
      expect((await taskState(first.task.task_id, first.token)).state).toBe("open");

      const real = await cli(
        ["revoke", "--agent", "ci:revoke-target", "--reason", "suspected prompt injection", "--wait"],
        { as: "operator" },
      );
      expect(real.code, real.stderr).toBe(0);
      expect(real.stderr).toMatch(/revocation rev_\S+ started: 2 task\(s\), 2 credential\(s\)/);
      expect(real.stdout).toMatch(/rev_\S+: completed, 2\/2 settled \(revoked 2,/);
      for (const { task, token } of [first, second]) {
        expect(await taskState(task.task_id, token)).toMatchObject({
          state: "closed",
          close_reason: "revoked",
        });
      }
      const revocationId = /rev_[\w-]+/.exec(real.stdout)?.[0] ?? "";
      const shown = await cli(["revocations", "show", revocationId, "--json"], { as: "operator" });
      expect(JSON.parse(shown.stdout)).toMatchObject({ state: "completed", progress: { revoked: 2 } });
    },
    SLOW,
  );

  it(
    "a revocation that fails exits 3 and lists the credential; credentials ls and retry finish it",
    async () => {
      const { task, credential, token } = await openTaskWithCredential("flaky-agent", "flaky");
      faults.permanentRevokeFailure = true;
      try {
        const failed = await cli(["revoke", "--task", task.task_id, "--reason", "incident 7", "--wait"], {
          as: "operator",
        });
        expect(failed.code, failed.stderr).toBe(3);
        expect(failed.stdout).toContain(credential.credential_id);
        expect(failed.stdout).toContain("access denied (injected)");
        expect(failed.stdout).toContain("credbroker credentials retry");
        const listed = await cli(["credentials", "ls", "--state", "revoke_failed"], { as: "operator" });
        expect(listed.code, listed.stderr).toBe(0);
        const row = listed.stdout.split("\n").find((line) => line.includes(credential.credential_id));
        expect(row).toMatch(/revoke_failed/);
        expect(row).toContain("access denied (injected)");
      } finally {
        faults.permanentRevokeFailure = false;
      }
      const retried = await cli(["credentials", "retry", credential.credential_id], { as: "operator" });
      expect(retried.code, retried.stderr).toBe(0);
      expect(retried.stdout).toContain(`revocation retry queued for ${credential.credential_id}`);
      await waitFor(
        async () => (await taskState(task.task_id, token)).credentials[0].state === "revoked",
        10_000,
        "retried revocation",
      );
      const json = await cli(["credentials", "ls", "--task", task.task_id, "--json"], { as: "operator" });
      expect(JSON.parse(json.stdout).credentials).toMatchObject([
        { credential_id: credential.credential_id, state: "revoked" },
      ]);
    },
    SLOW,
  );

  it(
    "approvals ls lists pending requests; approve and deny decide them with a comment",
    async () => {
      const agent = await h.token("writer");
      const task = (
        await h.call("POST", "/v1/tasks", { token: agent, body: { intent: "w", ttl_seconds: 600 } })
      ).body;
      const request = () =>
        h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
          token: agent,
          body: {
            profile: "tickets-api",
            scopes: ["tickets:write"],
            ttl_seconds: 120,
            reason: "close dupes",
          },
        });
      const [one, two] = [(await request()).body.approval_id, (await request()).body.approval_id];
      const listed = await cli(["approvals", "ls"], { as: "approver-carol" });
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout.split("\n")[0]).toMatch(/^APPROVAL\s+STATE\s+TASK\s+PROFILE\s+REQUESTER/);
      const row = listed.stdout.split("\n").find((line) => line.includes(one));
      expect(row).toMatch(/pending\s+tsk_\S+\s+tickets-api\s+ci:writer\s+tickets:write\s+120s/);
      const [approved, denied] = await Promise.all([
        cli(["approvals", "approve", one, "--comment", "duplicates confirmed"], { as: "approver-carol" }),
        cli(["approvals", "deny", two, "--json"], { as: "approver-carol" }),
      ]);
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toBe(`${one}: approved (comment: duplicates confirmed)\n`);
      expect(JSON.parse(denied.stdout)).toMatchObject({ approval_id: two, state: "denied" });
      expect((await h.call("GET", `/v1/approvals/${one}`, { token: agent })).body.state).toBe("approved");
    },
    SLOW,
  );

  it(
    "evidence summarises a task, answers --at and writes the HTML report",
    async () => {
      const { task, credential } = await openTaskWithCredential("evidence-agent", "Evidence review");
      const at = new Date().toISOString();
      const html = path.join(dir, "evidence.html");
      const [summary, validAt, page] = await Promise.all([
        cli(["evidence", task.task_id], { as: "operator" }),
        cli(["evidence", task.task_id, "--at", at], { as: "operator" }),
        cli(["evidence", task.task_id, "--html", html], { as: "operator" }),
      ]);
      expect(summary.code, summary.stderr).toBe(0);
      expect(summary.stdout).toMatch(new RegExp(`^task:\\s+${task.task_id}$`, "m"));
      expect(summary.stdout).toMatch(/^agent chain:\s+ci:evidence-agent$/m);
      expect(summary.stdout).toContain(credential.credential_id);
      expect(validAt.code, validAt.stderr).toBe(0);
      expect(validAt.stdout).toContain(`credentials valid at ${at}`);
      expect(validAt.stdout).toContain(credential.credential_id);
      expect(page.code, page.stderr).toBe(0);
      expect(readFileSync(html, "utf8")).toContain(task.task_id);
    },
    SLOW,
  );

  it(
    "evidence summarises approved, denied, delegated and emergency-revoked tasks (one report schema)",
    async () => {
      const approved = await approvalTask("evidence-approved", "approve", "duplicates confirmed");
      const denied = await approvalTask("evidence-denied", "deny", "not this week");
      const delegated = await delegatedTask();
      const revoked = await openTaskWithCredential("evidence-revoked", "Revoke me");
      const revoke = await cli(
        ["revoke", "--task", revoked.task.task_id, "--reason", "suspected prompt injection", "--wait"],
        { as: "operator" },
      );
      expect(revoke.code, revoke.stderr).toBe(0);
      const revocationId = /rev_[\w-]+/.exec(revoke.stdout)?.[0] ?? "missing";
      const evidenceOf = (taskId: string) => cli(["evidence", taskId], { as: "operator" });
      const [a, d, g, r] = await Promise.all([
        evidenceOf(approved.taskId),
        evidenceOf(denied.taskId),
        evidenceOf(delegated.rootId),
        evidenceOf(revoked.task.task_id),
      ]);
      for (const run of [a, d, g, r]) {
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).not.toContain("newer than this CLI");
      }
      expect(a.stdout).toMatch(new RegExp(`${approved.approvalId}\\s+redeemed\\s+ci:evidence-approved`));
      expect(a.stdout).toMatch(/approved by ci:approver-carol.*duplicates confirmed/);
      expect(d.stdout).toMatch(new RegExp(`${denied.approvalId}\\s+denied\\s+ci:evidence-denied`));
      expect(d.stdout).toMatch(/denied by ci:approver-carol.*not this week/);
      expect(g.stdout).toMatch(/^agent chain:\s+ci:evidence-planner$/m);
      expect(g.stdout).toContain(delegated.childId);
      expect(g.stdout).toContain(delegated.credentialId);
      expect(r.stdout).toContain(revoked.credential.credential_id);
      expect(r.stdout).toContain(`emergency ${revocationId} by ci:operator: “suspected prompt injection”`);
      expect(r.stdout).toMatch(new RegExp(`revoked\\s+emergency ${revocationId} asked by ci:operator`));
    },
    SLOW,
  );

  it(
    "audit export writes JSONL that verify --file accepts, and names the event a tamperer edited or removed",
    async () => {
      const operator = await h.token("operator");
      await waitFor(
        async () =>
          (await h.call("GET", "/v1/audit/checkpoints", { token: operator })).body.checkpoints.length > 0,
        10_000,
        "a signed checkpoint",
      );
      const file = path.join(dir, "audit.jsonl");
      const [online, exported] = await Promise.all([
        cli(["audit", "verify"], { as: "operator" }),
        cli(["audit", "export", "--out", file], { as: "operator" }),
      ]);
      expect(online.code, online.stderr).toBe(0);
      expect(online.stdout).toMatch(
        /^audit chain is valid: \d+ events, seq 1–\d+; [1-9]\d* signed checkpoint/,
      );
      expect(exported.code, exported.stderr).toBe(0);
      const lines = readFileSync(file, "utf8").trim().split("\n");
      const kinds = lines.map((line) => JSON.parse(line).kind);
      expect(kinds[0]).toBe("export");
      expect(kinds).toContain("checkpoint");
      expect(kinds.at(-1)).toBe("event");

      const tamperedFile = path.join(dir, "tampered.jsonl");
      const removedFile = path.join(dir, "removed.jsonl");
      const firstEvent = kinds.indexOf("event");
      const victim = firstEvent + 2;
      const edited = { ...JSON.parse(lines[victim] ?? "{}"), actor: "ci:someone-else" };
      writeFileSync(
        tamperedFile,
        [...lines.slice(0, victim), JSON.stringify(edited), ...lines.slice(victim + 1)].join("\n"),
      );
      writeFileSync(removedFile, [...lines.slice(0, victim), ...lines.slice(victim + 1)].join("\n"));
      const [valid, pinned, tampered, removed] = await Promise.all([
        cli(["audit", "verify", "--file", file]),
        cli(["audit", "verify", "--file", file, "--jwks", `${h.baseUrl}/.well-known/jwks.json`, "--json"]),
        cli(["audit", "verify", "--file", tamperedFile]),
        cli(["audit", "verify", "--file", removedFile, "--json"]),
      ]);
      expect(valid.code, valid.stderr + valid.stdout).toBe(0);
      expect(valid.stdout).toMatch(
        /is valid \(complete\): \d+ events, seq 1–\d+; [1-9]\d* checkpoint\(s\) signed by/,
      );
      expect(pinned.code, pinned.stdout).toBe(0);
      expect(JSON.parse(pinned.stdout)).toMatchObject({ valid: true, coverage: "complete" });
      expect(tampered.code).toBe(3);
      expect(tampered.stdout).toContain(
        `INVALID at seq ${edited.seq}, line ${victim + 1}: hash does not match the event's content`,
      );
      expect(removed.code).toBe(3);
      expect(JSON.parse(removed.stdout)).toMatchObject({
        valid: false,
        first_invalid: {
          seq: edited.seq + 1,
          line: victim + 1,
          reason: expect.stringContaining("events missing"),
        },
      });
    },
    SLOW,
  );

  it(
    "an export re-hashed after an edit fails against the signed checkpoint; an edited checkpoint fails its signature",
    async () => {
      const file = path.join(dir, "signed.jsonl");
      const exported = await cli(["audit", "export", "--out", file], { as: "operator" });
      expect(exported.code, exported.stderr).toBe(0);
      const lines = readFileSync(file, "utf8").trim().split("\n");
      const parsed = lines.map((line) => JSON.parse(line));
      const firstEvent = parsed.findIndex((line) => line.kind === "event");
      // A careful tamperer: edit one event, then recompute every hash after it so the links hold again.
      const rehashed = parsed.map((line) => ({ ...line }));
      rehashed[firstEvent + 2].actor = "ci:someone-else";
      for (let i = firstEvent + 2; i < rehashed.length; i++) {
        if (i > firstEvent + 2) rehashed[i].prev_hash = rehashed[i - 1].hash;
        rehashed[i].hash = hashEvent(rehashed[i]);
      }
      const rehashedFile = path.join(dir, "rehashed.jsonl");
      writeFileSync(rehashedFile, rehashed.map((line) => JSON.stringify(line)).join("\n"));
      const checkpointLine = parsed.findIndex((line) => line.kind === "checkpoint");
      const forged = parsed.map((line, i) =>
        i === checkpointLine ? { ...line, hash: "0".repeat(64) } : line,
      );
      const forgedFile = path.join(dir, "forged.jsonl");
      writeFileSync(forgedFile, forged.map((line) => JSON.stringify(line)).join("\n"));

      const [afterRehash, afterForgery] = await Promise.all([
        cli(["audit", "verify", "--file", rehashedFile, "--json"]),
        cli(["audit", "verify", "--file", forgedFile]),
      ]);
      expect(afterRehash.code, afterRehash.stdout).toBe(3);
      expect(JSON.parse(afterRehash.stdout).first_invalid.reason).toBe("differs from the signed checkpoint");
      expect(afterForgery.code, afterForgery.stdout).toBe(3);
      expect(afterForgery.stdout).toContain(`line ${checkpointLine + 1}: checkpoint signature is invalid`);
    },
    SLOW,
  );

  it(
    "a task's export verifies event by event, and a --since export from its first event on",
    async () => {
      const since = new Date(Date.now() - 1).toISOString();
      const { task } = await openTaskWithCredential("export-agent", "export me");
      const taskFile = path.join(dir, "task.jsonl");
      const sinceFile = path.join(dir, "since.jsonl");
      const exported = await Promise.all([
        cli(["audit", "export", "--task", task.task_id, "--out", taskFile], { as: "operator" }),
        cli(["audit", "export", "--since", since, "--out", sinceFile], { as: "operator" }),
      ]);
      for (const run of exported) expect(run.code, run.stderr).toBe(0);
      const [byTask, bySince] = await Promise.all([
        cli(["audit", "verify", "--file", taskFile, "--json"]),
        cli(["audit", "verify", "--file", sinceFile, "--json"]),
      ]);
      expect(byTask.code, byTask.stdout).toBe(0);
      expect(JSON.parse(byTask.stdout)).toMatchObject({ valid: true, coverage: "per_event" });
      expect(JSON.parse(byTask.stdout).events).toBeGreaterThanOrEqual(3);
      expect(bySince.code, bySince.stdout).toBe(0);
      expect(JSON.parse(bySince.stdout)).toMatchObject({ valid: true, coverage: "suffix" });
      expect(JSON.parse(bySince.stdout).first_seq).toBeGreaterThan(1);
    },
    SLOW,
  );

  it(
    "keys rotate makes a new signing key current and keeps the previous one published",
    async () => {
      const before = (await h.call("GET", "/.well-known/jwks.json")).body.keys.map(
        (k: { kid: string }) => k.kid,
      );
      const unconfirmed = await cli(["keys", "rotate"], { as: "operator" });
      expect(unconfirmed.code).toBe(1);
      expect(unconfirmed.stderr).toContain("add --yes to confirm");
      const unchanged = (await h.call("GET", "/.well-known/jwks.json")).body.keys.map(
        (k: { kid: string }) => k.kid,
      );
      expect(unchanged).toEqual(before);
      const all = await cli(["revoke", "--all", "--reason", "drill"], { as: "operator" });
      expect(all.code).toBe(1);
      expect(all.stderr).toContain("add --yes to confirm");
      const rotated = await cli(["keys", "rotate", "--json", "--yes"], { as: "operator" });
      expect(rotated.code, rotated.stderr).toBe(0);
      const { kid, previous_kid } = JSON.parse(rotated.stdout);
      expect(before).toContain(previous_kid);
      const after = (await h.call("GET", "/.well-known/jwks.json")).body.keys.map(
        (k: { kid: string }) => k.kid,
      );
      expect(after).toEqual(expect.arrayContaining([kid, previous_kid]));
      const human = await cli(["keys", "rotate", "--yes"], { as: "operator" });
      expect(human.stdout).toMatch(new RegExp(`^signing key rotated: new kid \\S+; ${kid} stays published`));
    },
    SLOW,
  );
});
