import { z } from "zod";

/**
 * The session policy of a task's AWS session: the profile's policy with every Allow bounded by
 * `DateLessThan aws:CurrentTime` = the task deadline. STS cannot issue credentials shorter than 900 s, but
 * their permissions end at the deadline with no IAM write and no propagation delay, because the session
 * policy travels inside the token (reference/sts.md §4).
 */

/** STS's documented limit for an inline session policy (plain text, minified here). */
export const SESSION_POLICY_MAX_CHARS = 2048;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const conditionBlock = z.record(z.string(), z.union([scalar, z.array(scalar)]));

const statementSchema = z
  .object({
    Sid: z
      .string()
      .regex(/^[0-9A-Za-z]*$/, "a Sid is alphanumeric")
      .optional(),
    Effect: z.enum(["Allow", "Deny"]),
    Action: stringOrList.optional(),
    NotAction: stringOrList.optional(),
    Resource: stringOrList.optional(),
    NotResource: stringOrList.optional(),
    Condition: z.record(z.string(), conditionBlock).optional(),
  })
  .strict()
  .refine(
    (s) => (s.Action === undefined) !== (s.NotAction === undefined),
    "give exactly one of Action, NotAction",
  )
  .refine(
    (s) => (s.Resource === undefined) !== (s.NotResource === undefined),
    "give exactly one of Resource, NotResource",
  );

const sessionPolicySchema = z
  .object({
    Version: z.enum(["2012-10-17", "2008-10-17"]).optional(),
    Id: z.string().optional(),
    Statement: z.union([statementSchema, z.array(statementSchema).min(1)]),
  })
  .strict();

type PolicyStatement = z.infer<typeof statementSchema>;
type ConditionBlock = z.infer<typeof conditionBlock>;

/** A profile's session policy, validated once at start. */
export interface SessionPolicy {
  statements: readonly PolicyStatement[];
}

/**
 * Parses `profiles.<name>.session_policy` (a mapping or its JSON text). Throws an Error whose message
 * names what is wrong; the caller prefixes the config path.
 */
export function parseSessionPolicy(raw: Record<string, unknown> | string): SessionPolicy {
  let json: unknown = raw;
  if (typeof raw === "string") {
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new Error(
        `session_policy is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
  const parsed = sessionPolicySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `session_policy: ${issue?.path.join(".") || "(document)"}: ${issue?.message ?? "invalid"}`,
    );
  }
  const { Statement } = parsed.data;
  return { statements: Array.isArray(Statement) ? Statement : [Statement] };
}

/** `2026-07-15T12:15:00Z`: the deadline rounded down to the second, so the bound never extends it. */
export function awsTimestamp(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

const CURRENT_TIME = "aws:CurrentTime";

/** The earliest instant the existing values of `DateLessThan aws:CurrentTime` still allow (they are OR-ed). */
function existingBound(block: ConditionBlock | undefined): { key: string; ms: number } | undefined {
  if (!block) return undefined;
  const key = Object.keys(block).find((k) => k.toLowerCase() === CURRENT_TIME.toLowerCase());
  if (key === undefined) return undefined;
  const raw = block[key];
  const values = (Array.isArray(raw) ? raw : [raw]).map((v) =>
    typeof v === "number" ? v * 1000 : Date.parse(String(v)),
  );
  if (values.some(Number.isNaN)) return undefined;
  return { key, ms: Math.max(...values) };
}

function boundStatement(statement: PolicyStatement, deadlineMs: number): PolicyStatement {
  if (statement.Effect !== "Allow") return statement;
  const condition = statement.Condition ?? {};
  const before = condition.DateLessThan;
  const existing = existingBound(before);
  const rest = Object.fromEntries(Object.entries(before ?? {}).filter(([k]) => k !== existing?.key));
  const until = Math.min(deadlineMs, existing?.ms ?? Number.POSITIVE_INFINITY);
  return {
    ...statement,
    Condition: { ...condition, DateLessThan: { ...rest, [CURRENT_TIME]: awsTimestamp(until) } },
  };
}

/**
 * The minified session policy for one task: every Allow also requires `aws:CurrentTime` < the deadline
 * (an earlier bound already in the profile is kept). Deny statements are left as they are.
 */
export function boundSessionPolicy(policy: SessionPolicy, taskDeadlineMs: number): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: policy.statements.map((statement) => boundStatement(statement, taskDeadlineMs)),
  });
}
