import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditLog, createAuditLog } from "../../../src/audit/audit-log.js";
import type { Principal } from "../../../src/auth/principal.js";
import { readLogin, startLogin } from "../../../src/console/console-login.js";
import { createConsoleSessions, csrfTokenOf } from "../../../src/console/console-sessions.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../../support/redis-keys.js";

const prefix = uniquePrefix("console-sessions");
let redis: Redis;
let audit: AuditLog;
let now = 1_000_000;
const principal: Principal = {
  id: "corp:alice",
  issuer: "corp",
  subject: "alice",
  kind: "oidc",
  claims: { email: "alice@example.com" },
  tags: { email: "alice@example.com" },
};
const sessions = () =>
  createConsoleSessions({
    redis,
    keyPrefix: prefix,
    idleMs: 60_000,
    absoluteMs: 300_000,
    now: () => now,
    audit,
  });

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  audit = createAuditLog({ redis, keyPrefix: prefix, clock: { now: () => now } });
});
afterAll(async () => {
  await deleteByPrefix(TEST_REDIS_URL, prefix);
  redis.disconnect();
});

describe("console sessions", () => {
  it("keeps only a hash of the session id in Redis, with a TTL", async () => {
    const id = await sessions().create(principal);
    const keys = await redis.keys(`${prefix}:console:session:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(id);
    expect(JSON.stringify(await redis.hgetall(keys[0] ?? ""))).not.toContain(id);
    expect(await redis.pttl(keys[0] ?? "")).toBeGreaterThan(0);
    const touched = await sessions().touch(id);
    expect(touched).toMatchObject({ principal: { id: "corp:alice", tags: { email: "alice@example.com" } } });
  });

  it("ends a session after the idle timeout, and after the absolute timeout even when used", async () => {
    const idle = await sessions().create(principal);
    now += 60_000;
    expect(await sessions().touch(idle)).toBe("idle");
    expect(await sessions().touch(idle)).toBe("unknown");

    const busy = await sessions().create(principal);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      now += 50_000; // never idle, but the sixth touch is 300 s after sign-in
      const result = await sessions().touch(busy);
      seen.push(typeof result === "string" ? result : "alive");
    }
    expect(seen).toEqual(["alive", "alive", "alive", "alive", "alive", "absolute"]);
  });

  it("ends a session on sign-out; an unknown or missing cookie has none", async () => {
    const id = await sessions().create(principal);
    await sessions().end(id);
    await sessions().end(id);
    expect(await sessions().touch(id)).toBe("unknown");
    expect(await sessions().touch(undefined)).toBe("missing");
    expect(await sessions().touch("made-up")).toBe("unknown");
  });

  it("keeps a sign-in in flight only in the browser's cookie: state, nonce and verifier derive from it", async () => {
    const before = await redis.keys(`${prefix}:*`);
    const { cookieValue, checks } = startLogin("/console/approvals");
    expect(await redis.keys(`${prefix}:*`)).toEqual(before);
    expect(readLogin(cookieValue)).toEqual(checks);
    expect(checks.returnTo).toBe("/console/approvals");
    expect(new Set([checks.state, checks.nonce, checks.verifier]).size).toBe(3);
    expect(checks.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = startLogin("/console/approvals").checks;
    expect(other.state).not.toBe(checks.state);
    expect(readLogin(undefined)).toBeNull();
    expect(readLogin("not a login cookie")).toBeNull();
  });

  it("derives a distinct CSRF token per session", () => {
    expect(csrfTokenOf("a")).not.toBe(csrfTokenOf("b"));
    expect(csrfTokenOf("a")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("audits each sign-in and each session's end once, tied by a session reference, never the cookie", async () => {
    const events = (await audit.list({ limit: 1000 })).events;
    const signedIn = events.filter((e) => e.type === "console.signed_in");
    const ended = events.filter((e) => e.type === "console.signed_out");
    expect(signedIn.length).toBe(4);
    expect(ended.map((e) => e.details.reason).sort()).toEqual(["absolute", "idle", "sign_out"]);
    for (const e of [...signedIn, ...ended]) expect(e.actor).toBe("corp:alice");
    const refs = new Set(signedIn.map((e) => e.details.session_ref));
    for (const e of ended) expect(refs.has(e.details.session_ref ?? "")).toBe(true);
  });
});
