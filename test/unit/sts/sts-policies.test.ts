import { describe, expect, it } from "vitest";
import {
  mergeDenyStates,
  nextPruneAt,
  parseDenyPolicy,
  policySize,
  pruneDenyState,
  renderDenyPolicy,
  withRoleCutoff,
} from "../../../providers/sts/deny-policy.js";
import {
  roleSessionName,
  sessionTags,
  sourceIdentity,
  stsName,
  tagValue,
} from "../../../providers/sts/session-identity.js";
import { boundSessionPolicy, parseSessionPolicy } from "../../../providers/sts/session-policy.js";
import { parsePolicy } from "../../sims/sts/policy-eval.js";

/** The pure parts of the STS provider: names and tags, the session policy, the deny-policy document. */

const T0 = Date.parse("2026-07-15T12:00:00Z");

describe("session names and tags", () => {
  it("uses a credential id as the session name unchanged", () => {
    expect(roleSessionName("crd_AbC-12_xyZ0123456789abcd")).toBe("crd_AbC-12_xyZ0123456789abcd");
  });

  it("makes any value a valid, stable and distinct STS name", () => {
    const long = `tsk_${"a".repeat(80)}`;
    for (const value of ["a", "has space", "repo/x:[bot]", long]) {
      const name = stsName(value);
      expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
      expect(stsName(value)).toBe(name);
    }
    expect(stsName("a:b")).not.toBe(stsName("a/b"));
    expect(sourceIdentity("aws:tsk")).not.toMatch(/^aws:/);
  });

  it("sanitises tag values to AWS's tag characters and 256 characters", () => {
    expect(tagValue("ci:repo/app [bot] #1")).toBe("ci:repo/app _bot_ _1");
    expect([...tagValue("é".repeat(300))]).toHaveLength(256);
    expect(
      sessionTags({ taskId: "tsk_1", agent: "ci:a", initiator: "alice@example.com" }).map((t) => t.Key),
    ).toEqual(["credbroker:task-id", "credbroker:agent", "credbroker:initiator"]);
  });
});

describe("session policy", () => {
  const profile = parseSessionPolicy({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/*" },
      {
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::reports",
        Condition: {
          DateLessThan: { "aws:CurrentTime": "2026-07-15T12:05:00Z" },
          Bool: { "aws:SecureTransport": "true" },
        },
      },
      { Effect: "Deny", Action: "s3:DeleteObject", Resource: "*" },
    ],
  });

  it("bounds every Allow by the task deadline, keeps an earlier bound and leaves Deny statements alone", () => {
    const bound = JSON.parse(boundSessionPolicy(profile, T0 + 30 * 60_000 + 999));
    expect(bound.Statement[0].Condition).toEqual({
      DateLessThan: { "aws:CurrentTime": "2026-07-15T12:30:00Z" },
    });
    expect(bound.Statement[1].Condition).toEqual({
      DateLessThan: { "aws:CurrentTime": "2026-07-15T12:05:00Z" },
      Bool: { "aws:SecureTransport": "true" },
    });
    expect(bound.Statement[2].Condition).toBeUndefined();
  });

  it("accepts the profile policy as JSON text, and names what is wrong with a bad one", () => {
    expect(
      parseSessionPolicy('{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}').statements,
    ).toHaveLength(1);
    expect(() => parseSessionPolicy("{nope")).toThrow(/not valid JSON/);
    expect(() => parseSessionPolicy({ Statement: [{ Effect: "Allow", Resource: "*" }] })).toThrow(/Action/);
    expect(() =>
      parseSessionPolicy({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*", Principal: "*" }] }),
    ).toThrow(/Principal/);
  });
});

describe("deny-policy document", () => {
  const sessions = new Map([
    ["AROAEXAMPLE:crd_a", T0 + 10_000],
    ["AROAEXAMPLE:crd_b", T0 + 20_000],
    ["AROAEXAMPLE:crd_c", T0 + 120_000],
  ]);
  const state = { sessions, cutoff: null, foreign: [] };

  it("renders entries grouped by expiry minute and parses back to entries no earlier than their expiry", () => {
    const text = renderDenyPolicy(state) ?? "";
    expect(() => parsePolicy(text)).not.toThrow();
    const doc = JSON.parse(text);
    expect(doc.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      `CredbrokerSessionsUntil${T0 / 1000 + 60}`,
      `CredbrokerSessionsUntil${T0 / 1000 + 120}`,
    ]);
    const parsed = parseDenyPolicy(text);
    for (const [id, expiresAt] of sessions) expect(parsed.sessions.get(id)).toBeGreaterThanOrEqual(expiresAt);
    expect(policySize(JSON.stringify(doc, null, 2))).toBe(policySize(text));
  });

  it("merges two views of the entries, prunes expired ones, and reports when the next prune is due", () => {
    const other = { sessions: new Map([["AROAEXAMPLE:crd_d", T0 + 30_000]]), cutoff: null, foreign: [] };
    const merged = mergeDenyStates(state, other);
    expect(merged.sessions.size).toBe(4);
    expect(nextPruneAt(merged, 60_000)).toBe(T0 + 70_000);
    expect([...pruneDenyState(merged, T0 + 85_000, 60_000).sessions.keys()].sort()).toEqual([
      "AROAEXAMPLE:crd_c",
      "AROAEXAMPLE:crd_d",
    ]);
    expect(nextPruneAt(pruneDenyState(merged, T0 + 10_000_000, 60_000), 60_000)).toBeNull();
  });

  it("a role cut-off replaces the entries, rounds up, and denies by aws:TokenIssueTime", () => {
    const cut = withRoleCutoff(state, { issuedBeforeMs: T0 + 500, untilMs: T0 + 3_600_000 });
    const text = renderDenyPolicy(cut) ?? "";
    expect(JSON.parse(text).Statement).toEqual([
      {
        Sid: `CredbrokerIssuedBefore${T0 / 1000}Until${T0 / 1000 + 3600}`,
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { DateLessThan: { "aws:TokenIssueTime": "2026-07-15T12:00:01Z" } },
      },
    ]);
    expect(parseDenyPolicy(text).cutoff).toEqual({ issuedBeforeMs: T0 + 1000, untilMs: T0 + 3_600_000 });
    expect(renderDenyPolicy(pruneDenyState(cut, T0 + 3_600_000, 0))).toBeNull();
  });
});
