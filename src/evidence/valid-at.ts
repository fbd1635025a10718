import { type Credential, UNCERTAIN_ISSUE } from "../credentials/credential-types.js";
import { toIso } from "../shared/clock.js";
import type { ValidAtAnswer, ValidCredential } from "./evidence-types.js";

/** The rule `validAt` applies, as the report states it. */
export const VALID_AT_RULE =
  "valid at T ⇔ issued_at ≤ T < min(expires_at, revoked_at). A credential never issued is never valid; " +
  "a revoke_failed credential has no revoked_at (the downstream never confirmed revocation), so it counts " +
  "as valid until it expires; a credential still being revoked counts as valid until revoked_at is recorded.";

/** Half-open validity interval `[from, until)` in epoch ms. */
export interface ValidityInterval {
  from: number;
  until: number;
}

/** When a credential was valid, or null if it never was (never issued, or no expiry recorded). */
export function validityOf(
  credential: Pick<Credential, "issuedAt" | "expiresAt" | "revokedAt">,
): ValidityInterval | null {
  if (credential.issuedAt === null || credential.expiresAt === null) return null;
  const until =
    credential.revokedAt === null
      ? credential.expiresAt
      : Math.min(credential.expiresAt, credential.revokedAt);
  return { from: credential.issuedAt, until };
}

/** Whether the credential was valid at `at` (epoch ms). */
export function isValidAt(
  credential: Pick<Credential, "issuedAt" | "expiresAt" | "revokedAt">,
  at: number,
): boolean {
  const interval = validityOf(credential);
  return interval !== null && interval.from <= at && at < interval.until;
}

/**
 * A credential whose issuance outcome is unknown may hide a secret downstream: it lived at most from its
 * creation until its requested TTL ran out, or until it was revoked.
 */
function possiblyValidUntil(credential: Credential, at: number): number | null {
  if (credential.issuedAt !== null || credential.revokeReason !== UNCERTAIN_ISSUE) return null;
  const lapse = credential.createdAt + credential.ttlSeconds * 1000;
  const until = credential.revokedAt === null ? lapse : Math.min(lapse, credential.revokedAt);
  return credential.createdAt <= at && at < until ? until : null;
}

/** Answers "which credentials were valid at `at`" over the given credentials. */
export function validAt(credentials: readonly Credential[], at: number): ValidAtAnswer {
  const valid: ValidCredential[] = [];
  const possibly: ValidAtAnswer["possibly_valid"] = [];
  for (const credential of credentials) {
    const interval = validityOf(credential);
    if (interval && interval.from <= at && at < interval.until) {
      valid.push({
        credential_id: credential.id,
        task_id: credential.taskId,
        profile: credential.profile,
        provider: credential.provider,
        downstream_account: credential.downstreamAccount,
        issued_at: toIso(interval.from),
        valid_until: toIso(interval.until),
        revoke_failed: credential.state === "revoke_failed",
      });
      continue;
    }
    const until = possiblyValidUntil(credential, at);
    if (until !== null) {
      possibly.push({
        credential_id: credential.id,
        task_id: credential.taskId,
        possibly_until: toIso(until),
      });
    }
  }
  return { at: toIso(at), rule: VALID_AT_RULE, credentials: valid, possibly_valid: possibly };
}
