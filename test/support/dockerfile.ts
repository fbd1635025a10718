import { readFileSync } from "node:fs";
import path from "node:path";

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** A build stage: `FROM <base> [AS <name>]` and what follows it. */
export interface Stage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Instructions before the first FROM (global ARGs). */
  preamble: Instruction[];
  stages: Stage[];
}

export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");

/** Parses the subset of Dockerfile syntax the project uses: comments, `\` continuations, stages. */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  let pending = "";
  let startLine = 0;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === "" && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
    if (pending !== "" && line.trimStart().startsWith("#")) return;
    if (pending === "") startLine = index + 1;
    const continued = line.endsWith("\\");
    pending += `${continued ? line.slice(0, -1) : line} `;
    if (continued) return;
    const [keyword = "", ...rest] = pending.trim().split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(" "), line: startLine });
    pending = "";
  });

  const file: Dockerfile = { preamble: [], stages: [] };
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const [base = "", as, name] = instruction.args.split(/\s+/);
      file.stages.push({ base, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else {
      (file.stages.at(-1)?.instructions ?? file.preamble).push(instruction);
    }
  }
  return file;
}

export function readDockerfile(): Dockerfile {
  return parseDockerfile(readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8"));
}

/** The exec-form array of `CMD`/`ENTRYPOINT`/`HEALTHCHECK … CMD [...]`, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  const start = args.indexOf("[");
  if (start === -1) return undefined;
  const parsed: unknown = JSON.parse(args.slice(start));
  return Array.isArray(parsed) && parsed.every((item) => typeof item === "string") ? parsed : undefined;
}

/** The instructions of a stage with the given keyword. */
export const instructionsOf = (stage: Stage, keyword: string): Instruction[] =>
  stage.instructions.filter((instruction) => instruction.keyword === keyword);

/** `ENV a=b c=d` pairs of a stage. */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instructionsOf(stage, "ENV")) {
    for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) {
      env[match[1]!] = match[2]!.replace(/^"|"$/g, "");
    }
  }
  return env;
}

/** `COPY [--from=stage] [--chown=…] <src> <dest>` of a stage. */
export function copiesOf(stage: Stage): { from: string | undefined; source: string; dest: string }[] {
  return instructionsOf(stage, "COPY").map(({ args }) => {
    const words = args.split(/\s+/);
    const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
    const paths = words.filter((w) => !w.startsWith("--"));
    return { from, source: paths.slice(0, -1).join(" "), dest: paths.at(-1) ?? "" };
  });
}
