import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  loadPolicyFiles,
  PolicyLoadError,
  policySetHash,
  resolvePolicyFiles,
} from "../../../src/policy/policy-loader.js";
import { policyDir } from "./policy-fixtures.js";

const OPEN_TASK = `permit(principal, action == Credbroker::Action::"OpenTask", resource);`;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function dirWith(files: Record<string, string>): string {
  const dir = policyDir(files);
  cleanups.push(dir.cleanup);
  return dir.dir;
}

function loadError(patterns: string[], baseDir: string): PolicyLoadError {
  try {
    loadPolicyFiles(patterns, baseDir);
  } catch (err) {
    if (err instanceof PolicyLoadError) return err;
    throw err;
  }
  throw new Error("expected the policy set to be refused");
}

describe("resolving policy files", () => {
  it("expands *, ? and ** globs and literal paths, sorted and de-duplicated, skipping dot-files", () => {
    const dir = dirWith({
      "b.cedar": "",
      "a.cedar": "",
      "notes.txt": "",
      ".hidden.cedar": "",
      "teams/x1.cedar": "",
      "teams/deep/x2.cedar": "",
      ".git/ignored.cedar": "",
    });
    const files = resolvePolicyFiles(["*.cedar", "**/x?.cedar", "a.cedar"], dir);
    expect(files.map((f) => path.relative(dir, f))).toEqual([
      "a.cedar",
      "b.cedar",
      path.join("teams", "deep", "x2.cedar"),
      path.join("teams", "x1.cedar"),
    ]);
  });

  it("refuses a pattern that matches no file, naming it", () => {
    const dir = dirWith({ "a.cedar": "" });
    expect(() => resolvePolicyFiles(["a.cedar", "missing.cedar", "nope/*.cedar"], dir)).toThrow(
      /"missing\.cedar".*matches no file[\s\S]*"nope\/\*\.cedar"/,
    );
  });
});

describe("loading policy files", () => {
  it("accepts an empty set: no patterns, or files without policies", () => {
    const none = loadPolicyFiles([], dirWith({}));
    expect(none.policies.size).toBe(0);
    const commentsOnly = loadPolicyFiles(["empty.cedar"], dirWith({ "empty.cedar": "// nothing yet\n" }));
    expect(commentsOnly.policies.size).toBe(0);
    expect(commentsOnly.hash).toBe(none.hash);
  });

  it("names policies by @id, else <file>:<index> in file order", () => {
    const numbered = (i: number) =>
      `// policy ${i}\npermit(principal, action == Credbroker::Action::"OpenTask", resource) when { context.now > ${i} };`;
    const many = Array.from({ length: 12 }, (_, i) => numbered(i + 1)).join("\n");
    const dir = dirWith({ "team.cedar": `@id("first") ${OPEN_TASK}\n${many}\n${OPEN_TASK}` });
    const set = loadPolicyFiles(["team.cedar"], dir);
    const auto = Array.from({ length: 13 }, (_, i) => `team:${i + 1}`);
    expect([...set.policies.keys()]).toEqual(["first", ...auto]);
    for (let i = 1; i <= 12; i++) {
      expect(set.policies.get(`team:${i}`)).toMatchObject({
        line: 1 + 2 * i,
        text: expect.stringContaining(`> ${i} }`),
      });
    }
    expect(set.policies.get("team:13")).toMatchObject({ line: 26, text: OPEN_TASK });
  });

  it("reads @max_ttl and @approval obligations", () => {
    const dir = dirWith({
      "p.cedar": `@id("capped") @max_ttl("600") ${OPEN_TASK}
        @id("gate") @approval("required") forbid(principal, action == Credbroker::Action::"OpenTask", resource);`,
    });
    const set = loadPolicyFiles(["p.cedar"], dir);
    expect(set.policies.get("capped")).toMatchObject({
      effect: "permit",
      maxTtlSeconds: 600,
      approvalRequired: false,
    });
    expect(set.policies.get("gate")).toMatchObject({
      effect: "forbid",
      maxTtlSeconds: undefined,
      approvalRequired: true,
    });
  });

  it("refuses malformed @max_ttl and @approval values, naming the policy", () => {
    const dir = dirWith({
      "p.cedar": `@id("minutes") @max_ttl("10m") ${OPEN_TASK}
        @id("zero") @max_ttl("0") ${OPEN_TASK}
        @id("maybe") @approval("optional") ${OPEN_TASK}`,
    });
    const err = loadError(["p.cedar"], dir);
    expect(err.problems.map((p) => p.policyId)).toEqual(["minutes", "zero", "maybe"]);
    expect(err.message).toMatch(/p\.cedar:1: policy "minutes": @max_ttl must be a positive whole number/);
    expect(err.message).toMatch(/policy "maybe": @approval must be @approval\("required"\)/);
  });

  it("refuses a syntax error, naming the file and line", () => {
    const dir = dirWith({
      "ok.cedar": OPEN_TASK,
      "broken.cedar": `${OPEN_TASK}\n\npermit(principal, action resource);`,
    });
    const err = loadError(["*.cedar"], dir);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ file: "broken.cedar", line: 3 });
    expect(err.message).toContain("broken.cedar:3: ");
  });

  it("refuses a misspelt context attribute with Cedar's hint, naming file and policy", () => {
    const dir = dirWith({
      "creds.cedar": `
@id("ttl-cap")
permit(principal, action == Credbroker::Action::"RequestCredential", resource)
when { context.ttl <= 600 };`,
    });
    const err = loadError(["creds.cedar"], dir);
    expect(err.problems).toEqual([
      expect.objectContaining({ file: "creds.cedar", policyId: "ttl-cap", line: 4 }),
    ]);
    expect(err.message).toContain('creds.cedar:4: policy "ttl-cap"');
    expect(err.message).toMatch(/attribute `ttl` in context .* not found \(help: did you mean/);
  });

  it("refuses unknown principal attributes and unguarded tag reads", () => {
    const dir = dirWith({
      "p.cedar": `
@id("attr") permit(principal, action == Credbroker::Action::"OpenTask", resource) when { principal.namespace == "x" };
@id("tag") permit(principal, action == Credbroker::Action::"OpenTask", resource) when { principal.getTag("namespace") == "x" };`,
    });
    const err = loadError(["p.cedar"], dir);
    expect(err.problems.map((p) => p.policyId).sort()).toEqual(["attr", "tag"]);
    expect(err.message).toMatch(/hasTag/);
  });

  it("refuses duplicate policy ids, naming both files", () => {
    const dir = dirWith({
      "one.cedar": `@id("same") ${OPEN_TASK}`,
      "two.cedar": `\n@id("same") ${OPEN_TASK}`,
    });
    const err = loadError(["*.cedar"], dir);
    expect(err.message).toContain(
      'two.cedar:2: policy "same": duplicate policy id "same", also used at one.cedar:1',
    );
  });

  it("refuses templates", () => {
    const dir = dirWith({ "t.cedar": "permit(principal == ?principal, action, resource);" });
    expect(loadError(["t.cedar"], dir).message).toMatch(/t\.cedar:1: templates/);
  });

  it("reports every problem at once", () => {
    const dir = dirWith({
      "a.cedar": "permit(principal, action, resource) when { context.x };",
      "b.cedar": "permit(",
    });
    const err = loadError(["*.cedar"], dir);
    expect(new Set(err.problems.map((p) => p.file))).toEqual(new Set(["a.cedar", "b.cedar"]));
  });
});

describe("policy-set hash", () => {
  it("depends on ids and texts only, not on how policies are spread over files", () => {
    const a = `@id("a") ${OPEN_TASK}`;
    const b = `@id("b") ${OPEN_TASK}`;
    const together = loadPolicyFiles(["x.cedar"], dirWith({ "x.cedar": `${b}\n${a}` })).hash;
    const apart = loadPolicyFiles(["*.cedar"], dirWith({ "1.cedar": a, "2.cedar": b })).hash;
    expect(together).toBe(apart);
    expect(together).toMatch(/^[0-9a-f]{64}$/);
    expect(policySetHash([{ id: "a", text: a }])).not.toBe(together);
  });
});
