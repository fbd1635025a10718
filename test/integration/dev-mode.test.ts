import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/dev/dev-redis.js";
import { type ApiResponse, waitFor } from "../support/broker-harness.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../support/redis-keys.js";

const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
const run = promisify(execFile);

let child: ChildProcess;
let cwd: string;
let base: string;
let output = "";
const prefix = uniquePrefix("dev");

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), "credbroker-dev-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [BIN, "dev", "--port", String(port)], {
    cwd,
    env: { ...process.env, REDIS_URL: TEST_REDIS_URL, CREDBROKER_KEY_PREFIX: prefix, LOG_LEVEL: "error" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  await waitFor(async () => output.includes("dev mode is up"), 20_000, "dev mode banner");
}, 30_000);

afterAll(async () => {
  child?.kill("SIGTERM");
  await new Promise((resolve) => child?.once("exit", resolve));
  await deleteByPrefix(TEST_REDIS_URL, prefix);
  rmSync(cwd, { recursive: true, force: true });
});

const token = async (sub: string) =>
  (await run(process.execPath, [BIN, "token", "--sub", sub], { cwd })).stdout.trim();

async function call(method: string, route: string, bearer: string, body?: unknown): Promise<ApiResponse> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text), text };
}

describe("dev mode (npm start)", () => {
  it("prints a walkthrough and serves the README's agent journey end to end", async () => {
    expect(output).toContain("./bin/credbroker.js token --sub summariser");
    const agent = await token("summariser");
    const task = await call("POST", "/v1/tasks", agent, {
      intent: "Summarise Q3 incidents",
      ttl_seconds: 900,
      initiator: { subject: "alice@example.com" },
    });
    expect(task.status).toBe(201);
    expect(task.body.agent).toBe("dev:summariser");
    const cred = await call("POST", `/v1/tasks/${task.body.task_id}/credentials`, agent, {
      profile: "tickets-api",
      ttl_seconds: 300,
      scopes: ["tickets:read"],
      reason: "list open incidents",
    });
    expect(cred.status).toBe(201);
    const jwt = cred.body.secret.token;
    const verified = await run(
      process.execPath,
      [BIN, "verify", "--jwks", `${base}/.well-known/jwks.json`, "--token", jwt],
      { cwd },
    );
    expect(JSON.parse(verified.stdout)).toMatchObject({
      valid: true,
      claims: { sub: "dev:summariser", scope: "tickets:read" },
    });
    expect((await call("POST", "/v1/introspect", agent, { token: jwt })).body.active).toBe(true);
    expect((await call("POST", `/v1/tasks/${task.body.task_id}/close`, agent)).status).toBe(202);
    const inactive = await waitFor(
      async () => {
        const res = await call("POST", "/v1/introspect", agent, { token: jwt });
        return res.body.active === false ? res.body : null;
      },
      5_000,
      "token inactive",
    );
    expect(inactive).toEqual({ active: false });
    const operator = await token("operator");
    const audit = await call("GET", `/v1/audit?task_id=${task.body.task_id}`, operator);
    expect(audit.body.events.map((e: { type: string }) => e.type)).toContain("credential.revoked");
  }, 30_000);

  it("serves the README's copilot journey: 202, a dev approver approves, the agent redeems once", async () => {
    const agent = await token("summariser");
    const task = await call("POST", "/v1/tasks", agent, {
      intent: "Close duplicate tickets",
      ttl_seconds: 900,
    });
    const held = await call("POST", `/v1/tasks/${task.body.task_id}/credentials`, agent, {
      profile: "tickets-admin",
      scopes: ["tickets:admin"],
      reason: "close duplicates",
    });
    expect(held.status).toBe(202);
    const approver = await token("approver");
    const pending = await call("GET", "/v1/approvals", approver);
    expect(pending.body.approvals.map((a: { approval_id: string }) => a.approval_id)).toContain(
      held.body.approval_id,
    );
    expect((await call("POST", `/v1/approvals/${held.body.approval_id}/approve`, agent, {})).status).toBe(
      403,
    );
    const approved = await call("POST", `/v1/approvals/${held.body.approval_id}/approve`, approver, {
      comment: "ok for today",
    });
    expect(approved.status).toBe(200);
    const redeemed = await call("GET", `/v1/approvals/${held.body.approval_id}`, agent);
    expect(redeemed.body).toMatchObject({ state: "approved", credential: { profile: "tickets-admin" } });
    const again = await call("GET", `/v1/approvals/${held.body.approval_id}`, agent);
    expect(again.body.credential ?? null).toBeNull();
  }, 30_000);
});
