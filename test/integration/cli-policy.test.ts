import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

/** `credbroker policy check|explain`: the broker's own loader and engine, offline. */

const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
const EXAMPLE = path.resolve(import.meta.dirname, "../../examples/policies/example.cedar");
const dir = mkdtempSync(path.join(tmpdir(), "credbroker-policycli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: dir },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const agent = [
  "--principal",
  "ci:system:serviceaccount:agents:summariser",
  "--kind",
  "kubernetes",
  "--tag",
  "namespace=agents",
];

describe("credbroker policy", { timeout: 60_000 }, () => {
  it("check validates against the schema and names every problem with its file and line", async () => {
    const ok = await cli(["policy", "check", EXAMPLE]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^valid: \d+ policies \(ci-agents-tasks, /);
    const bad = path.join(dir, "bad.cedar");
    writeFileSync(bad, "permit (principal, action, resource) when { context.nope };\n");
    const broken = await cli(["policy", "check", bad]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/bad\.cedar:1: .*attribute `nope`/);
  });

  it("explain shows the decision and the policies that made it", async () => {
    const base = [
      "policy",
      "explain",
      "--files",
      EXAMPLE,
      ...agent,
      "--action",
      "RequestCredential",
      "--profile",
      "tickets-api",
    ];
    const read = await cli([...base, "--scope", "tickets:read"]);
    expect(read.stdout).toContain(
      "allow: ci:system:serviceaccount:agents:summariser RequestCredential tickets-api",
    );
    expect(read.stdout).toContain("permitted by ci-agents-tickets-api (@max_ttl 600 s)");
    const write = await cli([...base, "--scope", "tickets:write"]);
    expect(write.stdout).toContain("held for approval by tickets-write-needs-approval");
    const approved = await cli([...base, "--scope", "tickets:write", "--approved", "--json"]);
    expect(JSON.parse(approved.stdout)).toMatchObject({
      effect: "allow",
      policyIds: ["ci-agents-tickets-api"],
    });
    const audit = await cli(["policy", "explain", "--files", EXAMPLE, ...agent, "--action", "ReadAudit"]);
    expect(audit.stdout).toContain("no policy permits it (the default is deny)");
  });
});
