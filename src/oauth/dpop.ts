import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from "jose";
import type { ReplayGuard } from "../auth/replay-guard.js";
import type { Clock } from "../shared/clock.js";
import type { DpopNonces } from "./dpop-nonces.js";
import { OAuthError } from "./oauth-errors.js";

/** Asymmetric `alg` values accepted in DPoP proofs (RFC 9449 §4.2; the metadata lists them). */
export const DPOP_ALGORITHMS = ["ES256", "ES384", "EdDSA", "RS256", "PS256"] as const;

/** A proof may be this old (by its `iat`)… */
const MAX_PROOF_AGE_SECONDS = 300;
/** …and this far in the future, for clock skew. */
const MAX_PROOF_SKEW_SECONDS = 60;

/** The request a proof must be bound to (RFC 9449 §4.3 checks 9 and 10). */
export interface DpopRequest {
  /** The `DPoP` header as received (undefined when absent). */
  header: string | undefined;
  method: string;
  /** The endpoint's URL without query and fragment. */
  url: string;
}

export interface DpopChecker {
  /** The RFC 7638 thumbprint (`cnf.jkt`) of a valid proof's key; throws `invalid_dpop_proof`/`use_dpop_nonce`. */
  check(request: DpopRequest & { header: string }): Promise<string>;
}

const invalidProof = (why: string, cause?: unknown) =>
  new OAuthError("invalid_dpop_proof", `The DPoP proof is not valid: ${why}.`, { cause });

/**
 * RFC 9449 §4.3 proof checking: one well-formed `dpop+jwt` signed by the public key in its own header, with
 * `htm` and `htu` matching the request, a fresh `iat`, a `jti` never seen before (claimed once in Redis
 * through the replay guard) and, when nonces are required, a current server nonce (else `use_dpop_nonce`
 * with a fresh `DPoP-Nonce`).
 */
export function createDpopChecker(deps: {
  replayGuard: ReplayGuard;
  /** Set when the broker requires server nonces (`oauth.dpop_require_nonce`). */
  nonces: DpopNonces | undefined;
  clock: Clock;
}): DpopChecker {
  async function verified(proof: string) {
    try {
      return await jwtVerify(proof, EmbeddedJWK, {
        typ: "dpop+jwt",
        algorithms: [...DPOP_ALGORITHMS],
        currentDate: new Date(deps.clock.now()),
        requiredClaims: ["jti", "htm", "htu", "iat"],
      });
    } catch (cause) {
      throw invalidProof("its header, signature or claims are malformed", cause);
    }
  }

  async function requireNonce(nonce: unknown): Promise<void> {
    if (!deps.nonces) return;
    if (typeof nonce === "string" && (await deps.nonces.accepts(nonce))) return;
    throw new OAuthError("use_dpop_nonce", "Send the DPoP proof again with the server's nonce.", {
      headers: { "DPoP-Nonce": await deps.nonces.current() },
    });
  }

  return {
    async check(request) {
      if (request.header.includes(",")) throw invalidProof("more than one DPoP header");
      const { payload, protectedHeader } = await verified(request.header);
      if (protectedHeader.jwk === undefined || "d" in protectedHeader.jwk)
        throw invalidProof("no public jwk");
      if (payload.htm !== request.method) throw invalidProof("htm is not this request's method");
      if (payload.htu !== request.url) throw invalidProof("htu is not this endpoint");
      const now = deps.clock.now() / 1000;
      const iat = payload.iat ?? 0;
      if (iat < now - MAX_PROOF_AGE_SECONDS || iat > now + MAX_PROOF_SKEW_SECONDS) {
        throw invalidProof("iat is not recent");
      }
      await requireNonce(payload.nonce);
      const jkt = await calculateJwkThumbprint(protectedHeader.jwk, "sha256");
      const expiresAtMs = (iat + MAX_PROOF_AGE_SECONDS + MAX_PROOF_SKEW_SECONDS) * 1000;
      if (!(await deps.replayGuard.claim(`dpop:${jkt}`, String(payload.jti), expiresAtMs))) {
        throw invalidProof("it was used before");
      }
      return jkt;
    },
  };
}
