import { CompactSign, compactVerify, decodeProtectedHeader, importJWK, type JWK } from "jose";
import type { PublicSignerJwk, SignerKeyRing } from "./signer-keys.js";

/** A signed statement (e.g. an audit checkpoint) with the public key that verifies it. */
export interface SignedDocument {
  /** Compact JWS over the canonical JSON payload. */
  jws: string;
  kid: string;
  /** Kept with the document so it stays verifiable after the key leaves the JWKS. */
  public_jwk: PublicSignerJwk;
}

export interface DocumentSigner {
  sign(payload: string, typ: string): Promise<SignedDocument>;
  /** The payload when the signature is valid for `typ` under the embedded key, else null. */
  verify(document: SignedDocument, typ: string): Promise<string | null>;
}

/** Signs non-token documents with the signer's current key (distinct `typ`, so never confusable with tokens). */
export function createDocumentSigner(keyRing: Pick<SignerKeyRing, "current" | "publicJwks">): DocumentSigner {
  return {
    async sign(payload, typ) {
      const key = await keyRing.current();
      const publicJwk = (await keyRing.publicJwks()).keys.find((jwk) => jwk.kid === key.kid);
      if (!publicJwk) throw new Error(`signing key ${key.kid} is not published`);
      const jws = await new CompactSign(new TextEncoder().encode(payload))
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ })
        .sign(key.privateKey);
      return { jws, kid: key.kid, public_jwk: publicJwk };
    },
    async verify(document, typ) {
      try {
        const header = decodeProtectedHeader(document.jws);
        if (header.typ !== typ || header.kid !== document.kid || document.public_jwk.kid !== document.kid)
          return null;
        const jwk: JWK = document.public_jwk;
        const key = await importJWK(jwk, document.public_jwk.alg);
        const { payload } = await compactVerify(document.jws, key, { algorithms: [document.public_jwk.alg] });
        return new TextDecoder().decode(payload);
      } catch {
        return null;
      }
    },
  };
}
