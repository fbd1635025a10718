import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../support/broker-harness.js";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");

let h: Harness;
let dir: string;

interface Step {
  event: string;
  [fact: string]: unknown;
}

/** Runs an example as a user would (`node --import tsx examples/<name>.ts`), parsing its JSON lines. */
async function example(name: string, env: Record<string, string>): Promise<Step[]> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", path.join("examples", name)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", CREDBROKER_URL: h.baseUrl, ...env },
    timeout: 60_000,
  });
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Step);
}

async function tokenFile(sub: string): Promise<string> {
  const file = path.join(dir, `${sub}.jwt`);
  writeFileSync(file, await h.token(sub));
  return file;
}

beforeAll(async () => {
  h = await startHarness({ name: "client-examples" });
  dir = mkdtempSync(path.join(tmpdir(), "credbroker-examples-"));
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the client examples run against a live broker", () => {
  it("examples/agent.ts opens its own task, gets a credential, delegates, and closes the task", {
    timeout: 90_000,
  }, async () => {
    const steps = await example("agent.ts", {
      CREDBROKER_TOKEN_FILE: await tokenFile("summariser"),
      CREDBROKER_DELEGATE_TO: "ci:helper",
    });
    expect(steps.map((s) => s.event)).toEqual(["task", "credential", "delegated", "done"]);
    const [task, credential, delegated] = steps;
    expect(task).toMatchObject({ owner: "ci:summariser" });
    expect(credential).toMatchObject({
      profile: "tickets-api",
      claims: { sub: "ci:summariser", aud: "https://tickets.internal", scope: "tickets:read" },
    });
    expect(JSON.stringify(steps)).not.toMatch(/eyJ/);
    expect(delegated).toMatchObject({ agent: "ci:helper" });
    const view = await h.call("GET", `/v1/tasks/${String(task?.task_id)}`, {
      token: await h.token("summariser"),
    });
    expect(["closing", "closed"]).toContain(view.body.state);
    expect(view.body.children).toEqual([delegated?.task_id]);
  });

  it("examples/orchestrator.ts opens a task for the agent, runs it, and closes the task afterwards", {
    timeout: 90_000,
  }, async () => {
    const steps = await example("orchestrator.ts", {
      CREDBROKER_TOKEN_FILE: await tokenFile("orchestrator"),
      CREDBROKER_AGENT: "ci:summariser",
      CREDBROKER_AGENT_TOKEN_FILE: await tokenFile("summariser"),
    });
    expect(steps.map((s) => s.event)).toEqual([
      "task_opened",
      "task",
      "credential",
      "done",
      "agent_exited",
      "task_closed",
    ]);
    const opened = steps[0]!;
    expect(opened).toMatchObject({ agent: "ci:summariser" });
    expect(steps[1]).toMatchObject({ task_id: opened.task_id, owner: "ci:orchestrator" });
    expect(steps[4]).toMatchObject({ code: 0 });
    const closed = steps[5]!;
    expect(closed).toMatchObject({ task_id: opened.task_id });
    expect(["closing", "closed"]).toContain(closed.state);
    expect(closed.credentials).toEqual([
      { credential_id: steps[2]?.credential_id, state: expect.stringMatching(/^(active|revoking|revoked)$/) },
    ]);
  });
});
