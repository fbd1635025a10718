import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type Harness, startHarness } from "../support/broker-harness.js";
import { TEST_POLICY } from "../support/test-policy.js";

/** `credbroker whoami` and `revocations ls`: who the token is, what it may do, and what was revoked. */

const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness({ name: "cliwhoami", policy: TEST_POLICY });
  dir = mkdtempSync(path.join(tmpdir(), "credbroker-whoami-"));
}, 30_000);
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(sub: string, args: string[], claims: Record<string, unknown> = {}) {
  const file = path.join(dir, `${sub}.token`);
  writeFileSync(file, await h.token(sub, claims));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [BIN, ...args, "--url", h.baseUrl, "--token-file", file],
    {
      env: { PATH: process.env.PATH, HOME: dir },
    },
  );
  return stdout;
}

describe("operator CLI: whoami and revocations ls", { timeout: 60_000 }, () => {
  it("whoami shows the principal, its tags and a dry run that records nothing", async () => {
    const auditor = await h.token("operator");
    const before = (await h.call("GET", "/v1/audit?limit=1000", { token: auditor })).body.events.length;
    const out = await cli("summariser", ["whoami", "--json"], { team: "reports" });
    const me = JSON.parse(out);
    expect(me.principal).toMatchObject({
      id: "ci:summariser",
      issuer: "ci",
      subject: "summariser",
      tags: { team: "reports" },
    });
    expect(me.actions).toMatchObject({ OpenTask: "allow", ReadAudit: "deny" });
    expect(me.profiles["tickets-api"]).toBe("allow");
    const human = await cli("operator", ["whoami"]);
    expect(human).toMatch(/principal: +ci:operator/);
    expect(human).toMatch(/ReadAudit: +allow/);
    const after = (await h.call("GET", "/v1/audit?limit=1000", { token: auditor })).body.events.length;
    expect(after - before).toBeLessThanOrEqual(2); // the auditor's own two reads, nothing from whoami
  });

  it("--output yaml prints the same answer as YAML; --output json as JSON", async () => {
    const yaml = await cli("summariser", ["whoami", "--output", "yaml"]);
    expect(parseYaml(yaml)).toMatchObject({ principal: { id: "ci:summariser" } });
    expect(JSON.parse(await cli("summariser", ["whoami", "--output", "json"])).principal.id).toBe(
      "ci:summariser",
    );
  });

  it("bash completion completes commands and subcommands from the CLI's own tree", async () => {
    const { stdout: script } = await promisify(execFile)(process.execPath, [BIN, "completion", "bash"]);
    const complete = (line: string) =>
      execFileSync("bash", [
        "-c",
        `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _credbroker; echo "\${COMPREPLY[*]}"`,
      ])
        .toString()
        .trim();
    expect(complete("credbroker revocations ''").split(" ")).toEqual(expect.arrayContaining(["ls", "show"]));
    expect(complete("credbroker rev")).toBe("revoke revocations");
  });

  it("revocations ls lists emergency revocations with reason, actor and time, newest first", async () => {
    const operator = await h.token("operator");
    for (const reason of ["first drill", "second drill"]) {
      const res = await h.call("POST", "/v1/admin/revocations", {
        token: operator,
        body: { selector: { agent: "ci:nobody" }, reason, dry_run: true },
      });
      expect(res.status).toBe(202);
    }
    const listed = JSON.parse(await cli("operator", ["revocations", "ls", "--json"]));
    expect(listed.revocations.map((r: { reason: string }) => r.reason).slice(0, 2)).toEqual([
      "second drill",
      "first drill",
    ]);
    expect(listed.revocations[0]).toMatchObject({
      actor: "ci:operator",
      dry_run: true,
      created_at: expect.any(String),
    });
    const table = await cli("operator", ["revocations", "ls"]);
    expect(table).toMatch(/rev_\S+ .* ci:operator .* agent=ci:nobody .* second drill/);
  });
});
