import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { AuditLog } from "../audit/audit-log.js";
import type { Principal } from "../auth/principal.js";
import type { RedisClient } from "../shared/redis.js";
import { consoleKeys } from "./console-keys.js";

/** A signed-in human: the principal the console acts as, and the session's own times (epoch ms). */
export interface ConsoleSession {
  principal: Principal;
  createdAt: number;
  lastSeenAt: number;
}

/** Why a session cookie was not accepted. */
export type SessionEnd = "missing" | "unknown" | "idle" | "absolute";

const storedPrincipal = z.object({
  id: z.string(),
  issuer: z.string(),
  subject: z.string(),
  kind: z.literal("oidc"),
  claims: z.record(z.string(), z.unknown()),
  tags: z.record(z.string(), z.string()),
});

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** A new browser secret: 32 random bytes, base64url. */
export const newSecret = (): string => randomBytes(32).toString("base64url");

/** The CSRF token of a session: derived from the session secret, so only its holder can know it. */
export const csrfTokenOf = (sessionId: string): string =>
  createHash("sha256").update(`credbroker-console-csrf\0${sessionId}`).digest("base64url");

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Console sessions in Redis, keyed by a hash of the cookie (a Redis dump holds no usable session). A
 * session ends after `idleMs` without a request or `absoluteMs` after sign-in, whichever comes first; the
 * key's TTL follows the nearer of the two, and the times are checked on every read as well.
 */
export function createConsoleSessions(deps: {
  redis: RedisClient;
  keyPrefix: string;
  idleMs: number;
  absoluteMs: number;
  now: () => number;
  /** Sign-ins and session ends are audited (`console.signed_in`, `console.signed_out`). */
  audit: Pick<AuditLog, "append">;
}) {
  const keys = consoleKeys(deps.keyPrefix);
  const ref = (sessionHash: string) => sha256(sessionHash).slice(0, 16);
  const recordEnd = (actor: string, sessionHash: string, reason: "sign_out" | "idle" | "absolute") =>
    deps.audit.append({
      type: "console.signed_out",
      actor,
      details: { session_ref: ref(sessionHash), reason },
    });
  const ttlMs = (createdAt: number, now: number) =>
    Math.max(1, Math.min(deps.idleMs, createdAt + deps.absoluteMs - now));

  async function create(principal: Principal): Promise<string> {
    const sessionId = newSecret();
    const now = deps.now();
    const hash = sha256(sessionId);
    const key = keys.session(hash);
    const stored = storedPrincipal.parse(principal);
    // Audited first: a session nobody recorded never exists.
    await deps.audit.append({
      type: "console.signed_in",
      actor: principal.id,
      details: { session_ref: ref(hash), absolute_timeout_seconds: Math.round(deps.absoluteMs / 1000) },
    });
    await deps.redis
      .multi()
      .hset(key, { principal: JSON.stringify(stored), created: String(now), seen: String(now) })
      .pexpire(key, ttlMs(now, now))
      .exec();
    return sessionId;
  }

  /** The session behind a cookie, touched (its idle timer restarts), or why there is none. */
  async function touch(sessionId: string | undefined): Promise<ConsoleSession | SessionEnd> {
    if (!sessionId) return "missing";
    const hash = sha256(sessionId);
    const key = keys.session(hash);
    const raw = await deps.redis.hgetall(key);
    if (!raw.principal || !raw.created || !raw.seen) return "unknown";
    const now = deps.now();
    const createdAt = Number(raw.created);
    const lastSeenAt = Number(raw.seen);
    const ended: SessionEnd | null =
      now - createdAt >= deps.absoluteMs ? "absolute" : now - lastSeenAt >= deps.idleMs ? "idle" : null;
    const principal: Principal = storedPrincipal.parse(JSON.parse(raw.principal));
    if (ended) {
      // Only the request that deletes the session records its end.
      if ((await deps.redis.del(key)) === 1) await recordEnd(principal.id, hash, ended);
      return ended;
    }
    await deps.redis.multi().hset(key, "seen", String(now)).pexpire(key, ttlMs(createdAt, now)).exec();
    return { principal, createdAt, lastSeenAt: now };
  }

  async function end(sessionId: string | undefined): Promise<void> {
    if (!sessionId) return;
    const hash = sha256(sessionId);
    const raw = await deps.redis.hget(keys.session(hash), "principal");
    if ((await deps.redis.del(keys.session(hash))) === 1 && raw) {
      await recordEnd(storedPrincipal.parse(JSON.parse(raw)).id, hash, "sign_out");
    }
  }

  return { create, touch, end };
}

export type ConsoleSessions = ReturnType<typeof createConsoleSessions>;
