import { createHash } from "node:crypto";
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from "jose";

/** Proof algorithms accepted (the broker's `dpop_signing_alg_values_supported`). */
export const DPOP_ALGORITHMS = ["ES256", "ES384", "EdDSA", "RS256", "PS256"] as const;
const MAX_PROOF_AGE_SECONDS = 300;
const MAX_PROOF_SKEW_SECONDS = 60;
/** Proof `jti`s remembered per process for replay detection (oldest dropped first). */
const MAX_REMEMBERED_PROOFS = 10_000;

/** Why a DPoP proof was refused; the middleware answers it as `invalid_dpop_proof`. */
export class DpopProofError extends Error {
  override readonly name = "DpopProofError";
}

/**
 * Checks the DPoP proof that accompanies a bound access token at a resource server (RFC 9449 §4.3 and
 * §7.1): one `dpop+jwt` signed by its embedded public key, `htm`/`htu` of this request, a fresh `iat`,
 * `ath` = the token's SHA-256, the key's thumbprint equal to the token's `cnf.jkt`, and a `jti` not seen
 * before by this process.
 */
export function createDpopProofChecker(now: () => number) {
  const seen = new Map<string, number>();

  function remember(key: string, until: number): boolean {
    const at = now();
    for (const [old, expiry] of seen) {
      if (expiry > at && seen.size < MAX_REMEMBERED_PROOFS) break;
      seen.delete(old);
    }
    if (seen.has(key)) return false;
    seen.set(key, until);
    return true;
  }

  return async function check(
    proof: string,
    expected: { method: string; url: string; token: string; jkt: string },
  ) {
    if (proof.includes(",")) throw new DpopProofError("more than one DPoP header");
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(proof, EmbeddedJWK, {
        typ: "dpop+jwt",
        algorithms: [...DPOP_ALGORITHMS],
        requiredClaims: ["jti", "htm", "htu", "iat", "ath"],
        currentDate: new Date(now()),
      });
    } catch {
      throw new DpopProofError("malformed or badly signed proof");
    }
    const { payload, protectedHeader } = verified;
    if (!protectedHeader.jwk || "d" in protectedHeader.jwk) throw new DpopProofError("no public jwk");
    if (payload.htm !== expected.method) throw new DpopProofError("htm is not this request's method");
    if (payload.htu !== expected.url) throw new DpopProofError("htu is not this request's URL");
    const ath = createHash("sha256").update(expected.token).digest("base64url");
    if (payload.ath !== ath) throw new DpopProofError("ath is not this token's hash");
    const seconds = now() / 1000;
    const iat = payload.iat ?? 0;
    if (iat < seconds - MAX_PROOF_AGE_SECONDS || iat > seconds + MAX_PROOF_SKEW_SECONDS) {
      throw new DpopProofError("iat is not recent");
    }
    if ((await calculateJwkThumbprint(protectedHeader.jwk, "sha256")) !== expected.jkt) {
      throw new DpopProofError("the proof's key is not the key the token is bound to");
    }
    const until = (iat + MAX_PROOF_AGE_SECONDS + MAX_PROOF_SKEW_SECONDS) * 1000;
    if (!remember(`${expected.jkt}:${String(payload.jti)}`, until))
      throw new DpopProofError("proof replayed");
  };
}
