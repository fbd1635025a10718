import { createHash } from "node:crypto";
import { newSecret } from "./console-sessions.js";

/** A sign-in in flight: what the callback checks, all derived from the browser's login cookie. */
export interface LoginChecks {
  state: string;
  nonce: string;
  /** The PKCE code verifier. */
  verifier: string;
  /** Where the human goes once signed in (a /console/ path, checked when it is read). */
  returnTo: string;
}

const derive = (label: string, secret: string): string =>
  createHash("sha256").update(`credbroker-console-${label}\0${secret}`).digest("base64url");

function checksOf(secret: string, returnTo: string): LoginChecks {
  return {
    state: derive("state", secret),
    nonce: derive("nonce", secret),
    verifier: derive("pkce", secret),
    returnTo,
  };
}

/**
 * Starts a sign-in with nothing stored on the server: state, nonce and PKCE verifier are derived from a
 * fresh random secret that only the browser's login cookie holds (so an unauthenticated client cannot
 * make the broker hold anything, and a callback from another browser fails the state check).
 */
export function startLogin(returnTo: string): { cookieValue: string; checks: LoginChecks } {
  const secret = newSecret();
  const cookieValue = `${secret}.${Buffer.from(returnTo).toString("base64url")}`;
  return { cookieValue, checks: checksOf(secret, returnTo) };
}

/** The checks of the sign-in a login cookie started, or null for no cookie or a malformed one. */
export function readLogin(cookieValue: string | undefined): LoginChecks | null {
  const match = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{0,400})$/.exec(cookieValue ?? "");
  if (!match?.[1]) return null;
  return checksOf(match[1], Buffer.from(match[2] ?? "", "base64url").toString());
}
