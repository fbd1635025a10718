import { createHash } from "node:crypto";
import type { Clock } from "../shared/clock.js";
import type { Principal } from "./principal.js";

/**
 * Remembers assertions that verified, keyed by the token's SHA-256 (never the token), so a workload that
 * reuses its token does not pay for signature verification on every call. Entries end no later than the
 * caller gives (the token's exp, its age limit, and the issuer's JWKS cache period, so a key the issuer
 * removes stops working as soon as it would without the cache).
 */
export interface VerifiedCache {
  get(token: string, audience: string | undefined): Principal | undefined;
  set(token: string, audience: string | undefined, principal: Principal, untilMs: number): void;
}

export function createVerifiedCache(deps: { clock: Clock; maxEntries: number }): VerifiedCache {
  const entries = new Map<string, { principal: Principal; untilMs: number }>();
  const keyOf = (token: string, audience: string | undefined) =>
    createHash("sha256")
      .update(token)
      .update("\0")
      .update(audience ?? "")
      .digest("base64url");

  return {
    get(token, audience) {
      const key = keyOf(token, audience);
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.untilMs <= deps.clock.now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.principal;
    },
    set(token, audience, principal, untilMs) {
      if (untilMs <= deps.clock.now()) return;
      if (entries.size >= deps.maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(keyOf(token, audience), { principal, untilMs });
    },
  };
}
