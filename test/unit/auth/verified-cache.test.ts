import { describe, expect, it } from "vitest";
import type { Principal } from "../../../src/auth/principal.js";
import { createVerifiedCache } from "../../../src/auth/verified-cache.js";

const principal: Principal = { id: "ci:a", issuer: "ci", subject: "a", kind: "oidc", claims: {}, tags: {} };

describe("verified assertion cache", () => {
  it("reuses a verified principal until its deadline, per audience, and never past it", () => {
    let now = 1_000;
    const cache = createVerifiedCache({ clock: { now: () => now }, maxEntries: 10 });
    cache.set("token-1", undefined, principal, 5_000);
    expect(cache.get("token-1", undefined)).toBe(principal);
    expect(cache.get("token-1", "other-audience")).toBeUndefined();
    expect(cache.get("token-2", undefined)).toBeUndefined();
    now = 5_000;
    expect(cache.get("token-1", undefined)).toBeUndefined();
  });

  it("does not keep entries whose deadline has passed, and stays bounded", () => {
    const cache = createVerifiedCache({ clock: { now: () => 1_000 }, maxEntries: 2 });
    cache.set("expired", undefined, principal, 1_000);
    expect(cache.get("expired", undefined)).toBeUndefined();
    cache.set("a", undefined, principal, 9_000);
    cache.set("b", undefined, principal, 9_000);
    cache.set("c", undefined, principal, 9_000);
    expect(cache.get("a", undefined)).toBeUndefined();
    expect(cache.get("c", undefined)).toBe(principal);
  });
});
