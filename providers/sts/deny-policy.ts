import { z } from "zod";
import { awsTimestamp } from "./session-policy.js";

/**
 * The broker-managed inline policy on a role that makes revoked sessions useless (reference/sts.md §3(b)):
 * Deny statements keyed on `aws:userid` = `<RoleId>:<session name>`, grouped by the minute their sessions
 * expire (the minute is in the Sid, so entries can be pruned from the document alone), plus at most one
 * role-wide `aws:TokenIssueTime` cut-off used when the per-session list would not fit IAM's budget.
 * Statements someone else put in the policy are kept untouched. Pure functions; no I/O.
 */

/** All of a role's inline policies together, white space not counted (reference/sts.md §3(c)). */
export const ROLE_INLINE_POLICY_BUDGET = 10_240;
const BUCKET_MS = 60_000;
const SESSIONS_SID = /^CredbrokerSessionsUntil(\d+)$/;
const CUTOFF_SID = /^CredbrokerIssuedBefore(\d+)Until(\d+)$/;

type Json = z.infer<ReturnType<typeof z.json>>;

export interface RoleCutoff {
  /** Sessions issued before this instant (epoch ms) are denied… */
  issuedBeforeMs: number;
  /** …until this instant, after which every one of them has expired. */
  untilMs: number;
}

export interface DenyState {
  /** `aws:userid` → epoch ms at which that session expires (its entry is useless afterwards). */
  sessions: ReadonlyMap<string, number>;
  cutoff: RoleCutoff | null;
  /** Statements the broker did not write, kept as they are. */
  foreign: readonly Json[];
}

export const EMPTY_DENY_STATE: DenyState = { sessions: new Map(), cutoff: null, foreign: [] };

const documentSchema = z.object({ Statement: z.union([z.array(z.json()), z.json()]) });
const sessionsStatement = z.object({
  Sid: z.string().regex(SESSIONS_SID),
  Effect: z.literal("Deny"),
  Condition: z.object({
    StringEquals: z.object({ "aws:userid": z.union([z.string(), z.array(z.string())]) }),
  }),
});
const cutoffStatement = z.object({
  Sid: z.string().regex(CUTOFF_SID),
  Effect: z.literal("Deny"),
  Condition: z.object({ DateLessThan: z.object({ "aws:TokenIssueTime": z.string() }) }),
});

/** Reads the policy text IAM holds (already URL-decoded); undefined or unparseable text is an empty state. */
export function parseDenyPolicy(text: string | undefined): DenyState {
  if (text === undefined) return EMPTY_DENY_STATE;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return EMPTY_DENY_STATE;
  }
  const doc = documentSchema.safeParse(json);
  if (!doc.success) return EMPTY_DENY_STATE;
  const statements = Array.isArray(doc.data.Statement) ? doc.data.Statement : [doc.data.Statement];
  const sessions = new Map<string, number>();
  let cutoff: RoleCutoff | null = null;
  const foreign: Json[] = [];
  for (const statement of statements) {
    const ours = sessionsStatement.safeParse(statement);
    if (ours.success) {
      const until = Number(SESSIONS_SID.exec(ours.data.Sid)?.[1]) * 1000;
      const ids = ours.data.Condition.StringEquals["aws:userid"];
      for (const id of Array.isArray(ids) ? ids : [ids])
        sessions.set(id, Math.max(until, sessions.get(id) ?? 0));
      continue;
    }
    const cut = cutoffStatement.safeParse(statement);
    const issuedBeforeMs = cut.success
      ? Date.parse(cut.data.Condition.DateLessThan["aws:TokenIssueTime"])
      : Number.NaN;
    if (cut.success && !Number.isNaN(issuedBeforeMs)) {
      const untilMs = Number(CUTOFF_SID.exec(cut.data.Sid)?.[2]) * 1000;
      cutoff = mergeCutoff(cutoff, { issuedBeforeMs, untilMs });
      continue;
    }
    foreign.push(statement);
  }
  return { sessions, cutoff, foreign };
}

function mergeCutoff(a: RoleCutoff | null, b: RoleCutoff | null): RoleCutoff | null {
  if (!a || !b) return a ?? b;
  return {
    issuedBeforeMs: Math.max(a.issuedBeforeMs, b.issuedBeforeMs),
    untilMs: Math.max(a.untilMs, b.untilMs),
  };
}

/** The union of two states: every session either lists (latest expiry wins), the later cut-off. */
export function mergeDenyStates(a: DenyState, b: DenyState): DenyState {
  const sessions = new Map(a.sessions);
  for (const [id, expiresAt] of b.sessions) sessions.set(id, Math.max(expiresAt, sessions.get(id) ?? 0));
  return { sessions, cutoff: mergeCutoff(a.cutoff, b.cutoff), foreign: [...a.foreign, ...b.foreign] };
}

/** Drops entries of sessions expired more than `marginMs` ago, and a cut-off past its end. */
export function pruneDenyState(state: DenyState, nowMs: number, marginMs: number): DenyState {
  const sessions = new Map([...state.sessions].filter(([, expiresAt]) => expiresAt + marginMs > nowMs));
  const cutoff = state.cutoff && state.cutoff.untilMs > nowMs ? state.cutoff : null;
  return { sessions, cutoff, foreign: state.foreign };
}

/**
 * Replaces every per-session entry by one role-wide cut-off: all listed sessions were issued before it, so
 * it covers them — and every other session of the role issued before it.
 */
export function withRoleCutoff(state: DenyState, cutoff: RoleCutoff): DenyState {
  return { sessions: new Map(), cutoff: mergeCutoff(state.cutoff, cutoff), foreign: state.foreign };
}

/** When the state next has something to prune (epoch ms), or null when it holds no broker entries. */
export function nextPruneAt(state: DenyState, marginMs: number): number | null {
  const times = [...state.sessions.values()].map((expiresAt) => expiresAt + marginMs);
  if (state.cutoff) times.push(state.cutoff.untilMs);
  return times.length === 0 ? null : Math.min(...times);
}

const bucketOf = (expiresAt: number): number => Math.ceil(expiresAt / BUCKET_MS) * (BUCKET_MS / 1000);

/** The policy document for a state (minified, deterministic), or null when it has no statements. */
export function renderDenyPolicy(state: DenyState): string | null {
  const buckets = new Map<number, string[]>();
  for (const [id, expiresAt] of state.sessions) {
    const bucket = bucketOf(expiresAt);
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), id]);
  }
  const statements: Json[] = [...state.foreign];
  if (state.cutoff) {
    const { issuedBeforeMs, untilMs } = state.cutoff;
    statements.push({
      Sid: `CredbrokerIssuedBefore${Math.floor(issuedBeforeMs / 1000)}Until${Math.ceil(untilMs / 1000)}`,
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      // Rounded up: the cut-off may only ever cover more sessions, never fewer.
      Condition: {
        DateLessThan: { "aws:TokenIssueTime": awsTimestamp(Math.ceil(issuedBeforeMs / 1000) * 1000) },
      },
    });
  }
  for (const [bucket, ids] of [...buckets].sort(([a], [b]) => a - b)) {
    statements.push({
      Sid: `CredbrokerSessionsUntil${bucket}`,
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { StringEquals: { "aws:userid": ids.sort() } },
    });
  }
  return statements.length === 0 ? null : JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** IAM's measure of a policy's size: characters, white space not counted. */
export const policySize = (text: string): number => text.replace(/\s/g, "").length;
