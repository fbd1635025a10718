/**
 * A small JSON Schema validator for the keywords the Helm chart's values.schema.json (draft-07) and the
 * OpenAPI document's schemas (2020-12, as zod emits them) use, so both are tested without a helm binary or
 * a new dependency. `format` is checked for `date-time` only. A keyword it does not know makes
 * it throw rather than pass silently: extend it here before the schema uses something new.
 */
export type Schema = boolean | { [keyword: string]: unknown };

export interface SchemaIssue {
  path: string;
  message: string;
}

const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "$comment",
  "title",
  "description",
  "default",
  "examples",
  "definitions",
]);
const KEYWORDS = new Set([
  "type",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "propertyNames",
  "items",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "format",
  "anyOf",
  "oneOf",
  "allOf",
  "not",
  "if",
  "then",
  "else",
  "$ref",
]);

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === "number" && actual === "integer");
}

const isObject = (value: unknown): value is Record<string, unknown> => typeOf(value) === "object";

/** Validates `value` against `schema`; `root` resolves `#/definitions/…` references. */
export function validate(schema: Schema, value: unknown, root: Schema = schema, at = ""): SchemaIssue[] {
  if (schema === true) return [];
  if (schema === false) return [{ path: at || "(root)", message: "no value is allowed here" }];
  const issues: SchemaIssue[] = [];
  const fail = (message: string, path = at) => issues.push({ path: path || "(root)", message });
  const sub = (s: unknown, v: unknown, path = at) => validate(s as Schema, v, root, path);

  for (const keyword of Object.keys(schema)) {
    if (!KEYWORDS.has(keyword) && !ANNOTATIONS.has(keyword))
      throw new Error(`unsupported keyword ${keyword} at ${at}`);
  }
  if (typeof schema.$ref === "string") {
    const target = schema.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], root);
    if (target === undefined) throw new Error(`unresolved $ref ${schema.$ref}`);
    issues.push(...sub(target, value));
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((type) => matchesType(value, type))) {
      fail(`must be ${types.join(" or ")}, got ${typeOf(value)}`);
      return issues;
    }
  }
  if (
    Array.isArray(schema.enum) &&
    !schema.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))
  ) {
    fail(`must be one of ${JSON.stringify(schema.enum)}`);
  }
  if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) {
    fail(`must be ${JSON.stringify(schema.const)}`);
  }
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && value.length < schema.minLength)
      fail(`shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength)
      fail(`longer than ${schema.maxLength}`);
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) {
      fail(`must match ${schema.pattern}`);
    }
    if (
      schema.format === "date-time" &&
      !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)
    ) {
      fail("must be an RFC 3339 date-time");
    }
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) fail(`must be ≥ ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum) fail(`must be ≤ ${schema.maximum}`);
    if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum) {
      fail(`must be > ${schema.exclusiveMinimum}`);
    }
    if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum) {
      fail(`must be < ${schema.exclusiveMaximum}`);
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems)
      fail(`needs ≥ ${schema.minItems} items`);
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
      fail(`allows ≤ ${schema.maxItems} items`);
    if (schema.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) {
      fail("items must be unique");
    }
    if (schema.items !== undefined)
      for (const [i, item] of value.entries()) issues.push(...sub(schema.items, item, `${at}[${i}]`));
  }
  if (isObject(value)) {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in value)) fail(`${key} is required`);
    for (const [key, child] of Object.entries(value)) {
      const path = at ? `${at}.${key}` : key;
      if (schema.propertyNames !== undefined)
        issues.push(...sub(schema.propertyNames, key, `${path} (name)`));
      if (key in properties) issues.push(...sub(properties[key], child, path));
      else if (schema.additionalProperties === false) fail(`unknown key ${key}`, path);
      else if (schema.additionalProperties !== undefined)
        issues.push(...sub(schema.additionalProperties, child, path));
    }
  }
  if (Array.isArray(schema.allOf)) for (const part of schema.allOf) issues.push(...sub(part, value));
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((part) => sub(part, value).length === 0)) {
    fail("matches none of anyOf");
  }
  if (Array.isArray(schema.oneOf)) {
    const matching = schema.oneOf.filter((part) => sub(part, value).length === 0).length;
    if (matching !== 1) fail(`must match exactly one of oneOf (matched ${matching})`);
  }
  if (schema.not !== undefined && sub(schema.not, value).length === 0)
    fail("matches a forbidden schema (not)");
  if (schema.if !== undefined) {
    const branch = sub(schema.if, value).length === 0 ? schema.then : schema.else;
    if (branch !== undefined) issues.push(...sub(branch, value));
  }
  return issues;
}
