import { decodeProtectedHeader } from "jose";

/**
 * The `typ` of a compact JWS's protected header, unverified (for choosing how to verify it), or undefined
 * when the token is not a JWS.
 */
export function tokenTyp(token: string): unknown {
  try {
    return decodeProtectedHeader(token).typ;
  } catch {
    return undefined;
  }
}
