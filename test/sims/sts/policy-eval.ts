import { SimError } from "./query-wire.js";

/**
 * Just enough IAM policy evaluation to decide whether a request with issued credentials would be honoured:
 * Action/NotAction and Resource/NotResource with `*` and `?` wildcards, and the String and Date condition
 * operators (with `IfExists`). Anything else is refused as a malformed document, so a test never silently
 * relies on a grammar the simulator does not understand.
 */

export interface Statement {
  sid: string | undefined;
  effect: "Allow" | "Deny";
  action: { not: boolean; patterns: string[] };
  resource: { not: boolean; patterns: string[] };
  /** operator → condition key (lower-cased) → values (any of). */
  conditions: { operator: string; key: string; values: string[] }[];
}

export interface PolicyDocument {
  statements: Statement[];
}

/** The request the data plane evaluates: action, resource and global condition keys (names lower-cased). */
export interface RequestContext {
  action: string;
  resource: string;
  keys: Record<string, string | undefined>;
}

const OPERATORS = new Set([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
]);
const SID_PATTERN = /^[0-9A-Za-z]*$/;

const malformed = (message: string): SimError => new SimError("MalformedPolicyDocument", 400, message);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function stringList(value: unknown, what: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((item) => typeof item === "string" || typeof item === "number")) {
    throw malformed(`Syntax errors in policy: ${what} must be a string or a list of strings.`);
  }
  return list.map(String);
}

function matcher(raw: Record<string, unknown>, name: "Action" | "Resource") {
  const positive = raw[name];
  const negative = raw[`Not${name}`];
  if (positive !== undefined && negative !== undefined)
    throw malformed(`Statement has both ${name} and Not${name}.`);
  if (positive === undefined && negative === undefined)
    throw malformed(`Policy statement must contain ${name.toLowerCase()}s.`);
  return negative === undefined
    ? { not: false, patterns: stringList(positive, name) }
    : { not: true, patterns: stringList(negative, `Not${name}`) };
}

function parseConditions(raw: unknown): Statement["conditions"] {
  if (raw === undefined) return [];
  if (!isRecord(raw)) throw malformed("Syntax errors in policy: Condition must be an object.");
  const parsed: Statement["conditions"] = [];
  for (const [operator, block] of Object.entries(raw)) {
    const base = operator.endsWith("IfExists") ? operator.slice(0, -"IfExists".length) : operator;
    if (!OPERATORS.has(base)) throw malformed(`Invalid Condition type : ${operator}.`);
    if (!isRecord(block)) throw malformed(`Syntax errors in policy: ${operator} must be an object.`);
    for (const [key, values] of Object.entries(block)) {
      parsed.push({ operator, key: key.toLowerCase(), values: stringList(values, key) });
    }
  }
  return parsed;
}

/** Parses an identity or session policy document, refusing what IAM would refuse (as far as modelled). */
export function parsePolicy(text: string): PolicyDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed("Syntax errors in policy.");
  }
  if (!isRecord(json)) throw malformed("Syntax errors in policy.");
  const version = json.Version;
  if (version !== undefined && version !== "2012-10-17" && version !== "2008-10-17")
    throw malformed("The policy must contain a valid version string");
  const rawStatements = Array.isArray(json.Statement) ? json.Statement : [json.Statement];
  if (json.Statement === undefined || rawStatements.length === 0)
    throw malformed("Policy document must contain a Statement.");
  const statements = rawStatements.map((raw): Statement => {
    if (!isRecord(raw)) throw malformed("Syntax errors in policy.");
    if (raw.Principal !== undefined || raw.NotPrincipal !== undefined)
      throw malformed("Policy document should not specify a principal.");
    if (raw.Effect !== "Allow" && raw.Effect !== "Deny")
      throw malformed("Syntax errors in policy: Effect must be Allow or Deny.");
    const sid = raw.Sid;
    if (sid !== undefined && (typeof sid !== "string" || !SID_PATTERN.test(sid))) {
      throw malformed(
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
      );
    }
    return {
      sid,
      effect: raw.Effect,
      action: matcher(raw, "Action"),
      resource: matcher(raw, "Resource"),
      conditions: parseConditions(raw.Condition),
    };
  });
  return { statements };
}

/** `*` matches any run of characters, `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, ignoreCase ? "is" : "s").test(value);
}

function parseDate(text: string): number {
  return /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text);
}

function conditionHolds(operator: string, actual: string | undefined, values: string[]): boolean {
  const ifExists = operator.endsWith("IfExists");
  const base = ifExists ? operator.slice(0, -"IfExists".length) : operator;
  const negated = base.includes("Not");
  if (actual === undefined) return ifExists || negated;
  const test = (expected: string): boolean => {
    switch (base) {
      case "StringEquals":
      case "StringNotEquals":
        return actual === expected;
      case "StringEqualsIgnoreCase":
      case "StringNotEqualsIgnoreCase":
        return actual.toLowerCase() === expected.toLowerCase();
      case "StringLike":
      case "StringNotLike":
        return wildcardMatch(expected, actual);
      default: {
        const a = parseDate(actual);
        const e = parseDate(expected);
        if (Number.isNaN(a) || Number.isNaN(e)) return false;
        if (base === "DateEquals" || base === "DateNotEquals") return a === e;
        if (base === "DateLessThan") return a < e;
        if (base === "DateLessThanEquals") return a <= e;
        if (base === "DateGreaterThan") return a > e;
        return a >= e;
      }
    }
  };
  // Negated operators hold when no listed value matches; the others when any does.
  return negated ? !values.some(test) : values.some(test);
}

export function statementApplies(statement: Statement, request: RequestContext): boolean {
  const actionHit = statement.action.patterns.some((p) => wildcardMatch(p, request.action, true));
  const resourceHit = statement.resource.patterns.some((p) => wildcardMatch(p, request.resource));
  if (actionHit === statement.action.not || resourceHit === statement.resource.not) return false;
  return statement.conditions.every((c) => conditionHolds(c.operator, request.keys[c.key], c.values));
}

/** `deny` if any statement denies, `allow` if one allows, else `implicit` (not allowed). */
export function evaluate(
  policies: readonly PolicyDocument[],
  request: RequestContext,
): "allow" | "deny" | "implicit" {
  let allowed = false;
  for (const policy of policies) {
    for (const statement of policy.statements) {
      if (!statementApplies(statement, request)) continue;
      if (statement.effect === "Deny") return "deny";
      allowed = true;
    }
  }
  return allowed ? "allow" : "implicit";
}

/** IAM's size measure for inline policies: characters, white space not counted. */
export const policySize = (text: string): number => text.replace(/\s/g, "").length;
