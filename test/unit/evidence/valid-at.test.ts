import { describe, expect, it } from "vitest";
import { UNCERTAIN_ISSUE } from "../../../src/credentials/credential-types.js";
import { isValidAt, validAt, validityOf } from "../../../src/evidence/valid-at.js";
import { credential, MIN, T0 } from "./evidence-fixtures.js";

const ids = (answer: ReturnType<typeof validAt>) => answer.credentials.map((c) => c.credential_id);

describe("valid at T", () => {
  const revoked = credential({
    id: "crd_revoked",
    taskId: "tsk_a",
    state: "revoked",
    issuedAt: T0,
    expiresAt: T0 + 10 * MIN,
    revokedAt: T0 + 5 * MIN,
  });
  const expired = credential({
    id: "crd_expired",
    taskId: "tsk_a",
    state: "expired",
    issuedAt: T0 + 2 * MIN,
    expiresAt: T0 + 4 * MIN,
  });

  it("is valid from issued_at inclusive to min(expires_at, revoked_at) exclusive", () => {
    expect(isValidAt(revoked, T0 - 1)).toBe(false);
    expect(isValidAt(revoked, T0)).toBe(true);
    expect(isValidAt(revoked, T0 + 5 * MIN - 1)).toBe(true);
    expect(isValidAt(revoked, T0 + 5 * MIN)).toBe(false);
    expect(isValidAt(expired, T0 + 4 * MIN - 1)).toBe(true);
    expect(isValidAt(expired, T0 + 4 * MIN)).toBe(false);
  });

  it("lists exactly the credentials valid at each instant", () => {
    const all = [revoked, expired];
    expect(ids(validAt(all, T0 - MIN))).toEqual([]);
    expect(ids(validAt(all, T0 + MIN))).toEqual(["crd_revoked"]);
    expect(ids(validAt(all, T0 + 3 * MIN))).toEqual(["crd_revoked", "crd_expired"]);
    expect(ids(validAt(all, T0 + 4 * MIN))).toEqual(["crd_revoked"]);
    expect(ids(validAt(all, T0 + 6 * MIN))).toEqual([]);
    const answer = validAt(all, T0 + MIN);
    expect(answer.at).toBe(new Date(T0 + MIN).toISOString());
    expect(answer.credentials[0]?.valid_until).toBe(new Date(T0 + 5 * MIN).toISOString());
  });

  it("never counts a credential that was never issued", () => {
    for (const state of ["pending", "failed"] as const) {
      const never = credential({ id: "crd_never", taskId: "tsk_a", state, issuedAt: null, expiresAt: null });
      expect(validityOf(never)).toBeNull();
      expect(ids(validAt([never], T0 + MIN))).toEqual([]);
    }
  });

  it("counts a revoke_failed credential as valid until it expires", () => {
    const failed = credential({
      id: "crd_failed",
      taskId: "tsk_a",
      state: "revoke_failed",
      lastError: "upstream said no",
      expiresAt: T0 + 10 * MIN,
    });
    const answer = validAt([failed], T0 + 9 * MIN);
    expect(answer.credentials).toMatchObject([{ credential_id: "crd_failed", revoke_failed: true }]);
    expect(ids(validAt([failed], T0 + 10 * MIN))).toEqual([]);
    expect(answer.rule).toContain("revoke_failed");
  });

  it("reports an uncertain issuance as possibly valid, not valid", () => {
    const uncertain = credential({
      id: "crd_uncertain",
      taskId: "tsk_a",
      state: "revoking",
      issuedAt: null,
      expiresAt: null,
      revokeReason: UNCERTAIN_ISSUE,
      ttlSeconds: 300,
    });
    const during = validAt([uncertain], T0 + MIN);
    expect(during.credentials).toEqual([]);
    expect(during.possibly_valid).toEqual([
      {
        credential_id: "crd_uncertain",
        task_id: "tsk_a",
        possibly_until: new Date(T0 + 5 * MIN).toISOString(),
      },
    ]);
    expect(validAt([uncertain], T0 + 5 * MIN).possibly_valid).toEqual([]);
  });
});
