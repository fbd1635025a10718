import { type QueryParams, SimError, validationError } from "./query-wire.js";

/**
 * The parameter constraints of the STS and IAM models (reference/sts.md §1.2, §3(e)), with the messages
 * AWS sends when one is violated.
 */

const NAME_CHARS = /^[\w+=,.@-]*$/;
const NAME_RULE = "Member must satisfy regular expression pattern: [\\w+=,.@-]*";
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_RULE = "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*";
/** Policy documents: tab, LF, CR and U+0020–U+00FF. */
const POLICY_CHARS = /^[\t\n\r\u0020-\u00FF]*$/;

const camel = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

export function checkLength(value: string, param: string, min: number, max: number): void {
  const length = [...value].length;
  if (length < min)
    throw validationError(value, camel(param), `Member must have length greater than or equal to ${min}`);
  if (length > max)
    throw validationError(value, camel(param), `Member must have length less than or equal to ${max}`);
}

/** RoleSessionName, SourceIdentity, RoleName and the like: `[\w+=,.@-]`, length bounds. */
export function checkName(value: string, param: string, min: number, max: number): void {
  checkLength(value, param, min, max);
  if (!NAME_CHARS.test(value)) throw validationError(value, camel(param), NAME_RULE);
}

export function checkPolicyText(value: string, param: string, max: number): void {
  checkLength(value, param, 1, max);
  if (!POLICY_CHARS.test(value))
    throw validationError(
      value,
      camel(param),
      "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
    );
}

/** `DurationSeconds`: an integer in 900..43200 (the role and chaining caps are checked by the caller). */
export function durationSeconds(params: QueryParams, fallback: number): number {
  const raw = params.get("DurationSeconds");
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value))
    throw new SimError("ValidationError", 400, `Invalid value for DurationSeconds: ${raw}`);
  if (value < 900)
    throw validationError(raw, "durationSeconds", "Member must have value greater than or equal to 900");
  if (value > 43_200)
    throw validationError(raw, "durationSeconds", "Member must have value less than or equal to 43200");
  return value;
}

/** Session tags: ≤ 50, keys 1–128 and values 0–256 of AWS's tag characters, keys unique ignoring case. */
export function sessionTags(params: QueryParams): Record<string, string> {
  const tags = params.tags("Tags");
  if (tags.length > 50)
    throw validationError("[…]", "tags", "Member must have length less than or equal to 50");
  const seen = new Set<string>();
  const result: Record<string, string> = {};
  for (const [i, { key, value }] of tags.entries()) {
    checkLength(key, `tags.${i + 1}.member.key`, 1, 128);
    if (!TAG_CHARS.test(key)) throw validationError(key, `tags.${i + 1}.member.key`, TAG_RULE);
    checkLength(value, `tags.${i + 1}.member.value`, 0, 256);
    if (!TAG_CHARS.test(value)) throw validationError(value, `tags.${i + 1}.member.value`, TAG_RULE);
    if (key.toLowerCase().startsWith("aws:"))
      throw new SimError("ValidationError", 400, "Tag keys may not start with 'aws:'.");
    if (seen.has(key.toLowerCase()))
      throw new SimError(
        "InvalidParameterValue",
        400,
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
      );
    seen.add(key.toLowerCase());
    result[key] = value;
  }
  return result;
}

export function sourceIdentity(params: QueryParams): string | undefined {
  const value = params.get("SourceIdentity");
  if (value === undefined) return undefined;
  checkName(value, "SourceIdentity", 2, 64);
  if (value.toLowerCase().startsWith("aws:"))
    throw new SimError("ValidationError", 400, "SourceIdentity must not begin with the prefix aws:");
  return value;
}

/** `arn:aws:iam::<acct>:role/<path/>name` → the role name, or undefined if it is no role ARN. */
export function roleNameOf(arn: string): string | undefined {
  return arn.match(/^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/)?.[1];
}
