import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  type DetailedError,
  policySetTextToParts,
  policyToJson,
  validate,
} from "@cedar-policy/cedar-wasm/nodejs";
import { CEDAR_SCHEMA } from "./cedar-schema.js";

/** One thing wrong with a policy set, located as precisely as Cedar allows. */
export interface PolicyProblem {
  /** The policy file, relative to the base directory when inside it, else absolute. */
  file?: string;
  policyId?: string;
  /** 1-based line in `file`. */
  line?: number;
  /** Cedar's message and help, or ours. */
  message: string;
}

/**
 * A policy set that cannot be loaded: a pattern that matches nothing, a syntax or schema error, a
 * duplicate id or a malformed annotation. `message` lists every problem, one a line.
 */
export class PolicyLoadError extends Error {
  readonly code = "ERR_POLICY_INVALID" as const;
  readonly problems: readonly PolicyProblem[];

  constructor(problems: PolicyProblem[]) {
    super(
      `The policy set cannot be loaded (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map(describeProblem).join("\n")}`,
    );
    this.name = "PolicyLoadError";
    this.problems = problems;
  }
}

/** A static policy with the obligations its annotations carry. */
export interface LoadedPolicy {
  /** `@id("…")`, else `<file basename without .cedar>:<0-based index in the file>`. */
  id: string;
  /** Absolute path of the file it came from. */
  file: string;
  /** 1-based line of its first character (annotations included). */
  line: number;
  text: string;
  effect: "permit" | "forbid";
  /** `@max_ttl("<seconds>")`; meaningful on permits. */
  maxTtlSeconds: number | undefined;
  /** `@approval("required")`; meaningful on forbids. */
  approvalRequired: boolean;
}

/** A validated policy set, ready to pre-parse. */
export interface LoadedPolicySet {
  /** Keyed by policy id, in file order. */
  policies: ReadonlyMap<string, LoadedPolicy>;
  /** sha256 hex over the sorted (id, text) pairs: identifies the set in every decision. */
  hash: string;
  /** Absolute paths of the files read, sorted. */
  files: string[];
  /** Cedar validation warnings and annotation misuse worth logging; none of them stops the load. */
  warnings: string[];
}

const GLOB_CHARS = /[*?]/;
const MAX_TTL_PATTERN = /^[1-9][0-9]{0,8}$/;

/**
 * Resolves patterns against `baseDir` into sorted, de-duplicated absolute file paths. A pattern is a
 * literal path or has `*` / `?` within a path segment, or `**` as a whole segment (any depth). Wildcards
 * skip dot-files and do not follow symlinked directories.
 * @throws PolicyLoadError naming every pattern that matches no file.
 */
export function resolvePolicyFiles(patterns: string[], baseDir: string): string[] {
  const found = new Set<string>();
  const problems: PolicyProblem[] = [];
  for (const pattern of patterns) {
    const matches = expandPattern(pattern, baseDir);
    if (matches.length === 0) {
      problems.push({
        message: `policy file pattern "${pattern}" (resolved to ${path.resolve(baseDir, pattern)}) matches no file`,
      });
    }
    for (const file of matches) found.add(file);
  }
  if (problems.length > 0) throw new PolicyLoadError(problems);
  return [...found].sort();
}

/**
 * Reads, parses, annotates and strictly validates the policy files against the Cedar schema. No
 * patterns (or files with no policies) give an empty set, which denies everything.
 * @throws PolicyLoadError listing every problem found, each naming its file and policy id.
 */
export function loadPolicyFiles(patterns: string[], baseDir: string): LoadedPolicySet {
  const files = resolvePolicyFiles(patterns, baseDir);
  const problems: PolicyProblem[] = [];
  const warnings: string[] = [];
  const policies = new Map<string, LoadedPolicy>();
  const shown = (file: string): string => displayPath(file, baseDir);

  for (const file of files) {
    for (const policy of readPolicyFile(file, shown(file), problems, warnings)) {
      const existing = policies.get(policy.id);
      if (existing) {
        problems.push({
          file: shown(policy.file),
          policyId: policy.id,
          line: policy.line,
          message: `duplicate policy id "${policy.id}", also used at ${shown(existing.file)}:${existing.line}`,
        });
        continue;
      }
      policies.set(policy.id, policy);
    }
  }

  validateAgainstSchema(policies, shown, problems, warnings);
  if (problems.length > 0) throw new PolicyLoadError(problems);
  return { policies, hash: policySetHash(policies.values()), files, warnings };
}

/** sha256 hex over the (id, text) pairs sorted by id; independent of file names and order. */
export function policySetHash(policies: Iterable<Pick<LoadedPolicy, "id" | "text">>): string {
  const pairs = [...policies].map((p): [string, string] => [p.id, p.text]);
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256").update(JSON.stringify(pairs)).digest("hex");
}

function readPolicyFile(
  file: string,
  shownFile: string,
  problems: PolicyProblem[],
  warnings: string[],
): LoadedPolicy[] {
  const source = fs.readFileSync(file, "utf8");
  const parts = policySetTextToParts(source);
  if (parts.type === "failure") {
    for (const error of parts.errors) {
      problems.push({ file: shownFile, line: errorLineIn(source, error), message: formatCedarError(error) });
    }
    return [];
  }
  if (parts.policy_templates.length > 0) {
    problems.push({
      file: shownFile,
      line: lineAt(source, Math.max(source.indexOf(parts.policy_templates[0] ?? ""), 0)),
      message: "templates (?principal / ?resource slots) are not supported in policy files",
    });
  }

  const ordered = inFileOrder(source, parts.policies);
  const basename = path.basename(file).replace(/\.cedar$/, "");
  const loaded: LoadedPolicy[] = [];
  ordered.forEach(({ text, offset }, index) => {
    const line = lineAt(source, offset);
    const json = policyToJson(text);
    if (json.type === "failure") {
      for (const error of json.errors) {
        problems.push({ file: shownFile, line, message: formatCedarError(error) });
      }
      return;
    }
    const annotations: Record<string, string | null> = json.json.annotations ?? {};
    const id = annotations.id ?? `${basename}:${index}`;
    const where = `${shownFile}:${line} policy "${id}"`;
    const obligations = readObligations(annotations, json.json.effect, {
      problem: (message) => problems.push({ file: shownFile, policyId: id, line, message }),
      warning: (message) => warnings.push(`${where}: ${message}`),
    });
    if (annotations.id === null || id.trim() === "") {
      problems.push({
        file: shownFile,
        line,
        message: '@id needs a non-empty value, e.g. @id("agents-open-tasks")',
      });
    }
    loaded.push({ id, file, line, text, effect: json.json.effect, ...obligations });
  });
  return loaded;
}

/** `@max_ttl("<seconds>")` and `@approval("required")`; other annotations are the author's own. */
function readObligations(
  annotations: Record<string, string | null>,
  effect: "permit" | "forbid",
  report: { problem(message: string): void; warning(message: string): void },
): Pick<LoadedPolicy, "maxTtlSeconds" | "approvalRequired"> {
  const { max_ttl: maxTtl, approval } = annotations;
  let maxTtlSeconds: number | undefined;
  if (maxTtl !== undefined) {
    if (maxTtl !== null && MAX_TTL_PATTERN.test(maxTtl)) maxTtlSeconds = Number(maxTtl);
    else
      report.problem(
        `@max_ttl must be a positive whole number of seconds, e.g. @max_ttl("600"); got ${JSON.stringify(maxTtl)}`,
      );
  }
  if (approval !== undefined && approval !== "required") {
    report.problem(`@approval must be @approval("required"); got ${JSON.stringify(approval)}`);
  }
  if (maxTtlSeconds !== undefined && effect === "forbid")
    report.warning("@max_ttl has no effect on a forbid");
  if (approval === "required" && effect === "permit")
    report.warning('@approval("required") has no effect on a permit');
  return { maxTtlSeconds, approvalRequired: approval === "required" };
}

function validateAgainstSchema(
  policies: ReadonlyMap<string, LoadedPolicy>,
  shown: (file: string) => string,
  problems: PolicyProblem[],
  warnings: string[],
): void {
  const staticPolicies = Object.fromEntries([...policies.values()].map((p) => [p.id, p.text]));
  const answer = validate({
    schema: CEDAR_SCHEMA,
    validationSettings: { mode: "strict" },
    policies: { staticPolicies },
  });
  if (answer.type === "failure") {
    for (const error of answer.errors) problems.push({ message: formatCedarError(error) });
    return;
  }
  for (const { policyId, error } of answer.validationErrors) {
    const policy = policies.get(policyId);
    problems.push({
      file: policy ? shown(policy.file) : undefined,
      policyId,
      line: policy ? policyErrorLine(policy, error) : undefined,
      message: formatCedarError(error),
    });
  }
  for (const { policyId, error } of answer.validationWarnings) {
    const policy = policies.get(policyId);
    const where = policy ? `${shown(policy.file)}:${policyErrorLine(policy, error)} ` : "";
    warnings.push(`${where}policy "${policyId}": ${formatCedarError(error)}`);
  }
  for (const warning of answer.otherWarnings) warnings.push(formatCedarError(warning));
}

function expandPattern(pattern: string, baseDir: string): string[] {
  const absolute = path.resolve(baseDir, pattern);
  if (!GLOB_CHARS.test(pattern)) return isFile(absolute) ? [absolute] : [];
  const root = path.parse(absolute).root;
  const segments = absolute
    .slice(root.length)
    .split(path.sep)
    .filter((s) => s !== "");
  const out: string[] = [];
  walk(root, segments, out);
  return out;
}

function walk(dir: string, segments: string[], out: string[]): void {
  const [segment, ...rest] = segments;
  if (segment === undefined) {
    if (isFile(dir)) out.push(dir);
    return;
  }
  if (segment === "**") {
    walk(dir, rest, out);
    for (const entry of listDir(dir)) {
      if (entry.isDirectory() && !entry.name.startsWith(".")) walk(path.join(dir, entry.name), segments, out);
    }
    return;
  }
  if (!GLOB_CHARS.test(segment)) {
    walk(path.join(dir, segment), rest, out);
    return;
  }
  const matcher = segmentMatcher(segment);
  for (const entry of listDir(dir)) {
    if (entry.name.startsWith(".") && !segment.startsWith(".")) continue;
    if (matcher.test(entry.name)) walk(path.join(dir, entry.name), rest, out);
  }
}

function segmentMatcher(segment: string): RegExp {
  const body = segment
    .split("")
    .map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[\\^$.|+()[\]{}]/, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "s");
}

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function displayPath(file: string, baseDir: string): string {
  const relative = path.relative(path.resolve(baseDir), file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/**
 * cedar-wasm names the policies of a text `policy0`, `policy1`, … in file order and returns the parts
 * sorted by that name (`policy10` before `policy2`); undo the sort, then find each verbatim slice in
 * `source` after the previous one. A test pins this behaviour (policy-loader.test.ts).
 */
function inFileOrder(source: string, parts: string[]): Array<{ text: string; offset: number }> {
  const internalIds = parts.map((_, i) => `policy${i}`);
  const returnedAt = new Map([...internalIds].sort().map((id, k) => [id, k]));
  const byFileIndex = internalIds.map((id) => parts[returnedAt.get(id) ?? -1] ?? "");
  let cursor = 0;
  return byFileIndex.map((text) => {
    const found = source.indexOf(text, cursor);
    const offset = found >= 0 ? found : cursor;
    cursor = offset + text.length;
    return { text, offset };
  });
}

function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < source.length; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/** Line (1-based) within `text` of the error's first location; Cedar reports UTF-8 byte offsets. */
function errorLineIn(text: string, error: DetailedError): number {
  const byteOffset = error.sourceLocations?.[0]?.start ?? 0;
  const charOffset = Buffer.from(text, "utf8").subarray(0, byteOffset).toString("utf8").length;
  return lineAt(text, charOffset);
}

function policyErrorLine(policy: LoadedPolicy, error: DetailedError): number {
  return policy.line + errorLineIn(policy.text, error) - 1;
}

function formatCedarError(error: DetailedError): string {
  const label = error.sourceLocations?.find((l) => l.label)?.label;
  const message = label ? `${error.message}: ${label}` : error.message;
  return error.help ? `${message} (help: ${error.help})` : message;
}

function describeProblem(problem: PolicyProblem): string {
  const where = problem.file ? `${problem.file}${problem.line ? `:${problem.line}` : ""}: ` : "";
  const which = problem.policyId ? `policy "${problem.policyId}": ` : "";
  return `  ${where}${which}${problem.message}`;
}
