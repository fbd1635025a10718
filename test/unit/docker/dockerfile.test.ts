import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  copiesOf,
  envOf,
  execForm,
  instructionsOf,
  parseDockerfile,
  REPO_ROOT,
  readDockerfile,
  type Stage,
} from "../../support/dockerfile.js";

const dockerfile = readDockerfile();
const runtime = dockerfile.stages.at(-1) as Stage;
const stage = (name: string) => dockerfile.stages.find((s) => s.name === name);

describe("the Dockerfile", () => {
  it("is multi-stage on a slim Node 20 base: build with dev dependencies, run with production ones", () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const defaultBase = instructionsOf(
      { base: "", name: undefined, instructions: dockerfile.preamble },
      "ARG",
    )
      .map((i) => i.args)
      .find((a) => a.startsWith("NODE_IMAGE="));
    expect(defaultBase).toMatch(/^NODE_IMAGE=node:20(\.\d+)*-(bookworm-)?slim$/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's literal build-arg reference
    for (const s of dockerfile.stages) expect(s.base).toBe("${NODE_IMAGE}");

    const build = stage("build");
    const runs = (s: Stage | undefined) => instructionsOf(s as Stage, "RUN").map((i) => i.args);
    expect(runs(build).some((r) => /npm ci\b/.test(r) && !r.includes("--omit=dev"))).toBe(true);
    expect(runs(build)).toContain("npm run build");
    expect(runs(stage("deps")).some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
  });

  it("ships only the built output, production node_modules, package.json and bin into the runtime stage", () => {
    expect(copiesOf(runtime)).toEqual([
      { from: "deps", source: "/app/node_modules", dest: "./node_modules" },
      { from: "build", source: "/src/dist", dest: "./dist" },
      { from: undefined, source: "package.json", dest: "./" },
      { from: undefined, source: "bin", dest: "./bin" },
    ]);
    expect(instructionsOf(runtime, "RUN").every((r) => !/npm (ci|install)/.test(r.args))).toBe(true);
  });

  it("runs as a numeric non-root user", () => {
    const users = instructionsOf(runtime, "USER");
    expect(users).toHaveLength(1);
    const [uid, gid] = (users[0]?.args ?? "").split(":");
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
    const after = runtime.instructions.slice(runtime.instructions.indexOf(users[0]!));
    expect(after.some((i) => i.keyword === "RUN" || i.keyword === "COPY")).toBe(false);
  });

  it("starts `credbroker serve` under tini, with the config path, role and port from the environment", () => {
    expect(execForm(instructionsOf(runtime, "ENTRYPOINT")[0]?.args ?? "")).toEqual([
      "/usr/bin/tini",
      "--",
      "node",
      "/app/bin/credbroker.js",
    ]);
    expect(execForm(instructionsOf(runtime, "CMD")[0]?.args ?? "")).toEqual(["serve"]);
    expect(
      instructionsOf(runtime, "RUN").some((r) => r.args.includes("install -y --no-install-recommends tini")),
    ).toBe(true);
    expect(envOf(runtime)).toMatchObject({
      NODE_ENV: "production",
      CREDBROKER_CONFIG: "/etc/credbroker/credbroker.yaml",
      CREDBROKER_HOST: "0.0.0.0",
      CREDBROKER_PORT: "8080",
      CREDBROKER_ROLE: "all",
    });
    expect(instructionsOf(runtime, "EXPOSE").map((i) => i.args)).toEqual(["8080 8081"]);
  });

  it("has a HEALTHCHECK on /healthz that needs nothing but node", () => {
    const [healthcheck] = instructionsOf(runtime, "HEALTHCHECK");
    const command = execForm(healthcheck?.args ?? "");
    expect(command?.slice(0, 2)).toEqual(["node", "-e"]);
    expect(command?.[2]).toContain("/healthz");
    expect(healthcheck?.args).toMatch(/--interval=\d+s .*--timeout=\d+s/);
  });

  it("keeps tests, docs, dev state and secrets out of the build context", () => {
    const ignore = readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    expect(ignore[0]).toBe("*");
    const allowed = ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, ""));
    expect(allowed.sort()).toEqual(
      [
        "bin",
        "package-lock.json",
        "package.json",
        "providers",
        "src",
        "tsconfig.build.json",
        "tsconfig.client.json",
        "tsconfig.json",
      ].sort(),
    );
    expect(ignore).toEqual(expect.arrayContaining(["**/.env", "**/*.pem", "**/*.test.ts"]));
    const copied = dockerfile.stages.flatMap((s) => copiesOf(s).filter((c) => c.from === undefined));
    for (const { source } of copied) {
      for (const word of source.split(" ")) expect(allowed).toContain(word);
    }
  });

  it("the parser joins continuation lines and skips comments", () => {
    const parsed = parseDockerfile("# c\nARG A=1\nFROM x AS y\nRUN a \\\n  # note\n  && b\nUSER 1:1\n");
    expect(parsed.preamble).toEqual([{ keyword: "ARG", args: "A=1", line: 2 }]);
    expect(parsed.stages[0]).toMatchObject({ base: "x", name: "y" });
    expect(parsed.stages[0]?.instructions.map((i) => i.args)).toEqual(["a && b", "1:1"]);
  });
});
