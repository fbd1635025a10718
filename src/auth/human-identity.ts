import type { Principal } from "./principal.js";

/**
 * Who a principal is as a person, as far as its issuer says: the policy compares these across issuers
 * (the same human may hold workload identities from several trusted issuers). Empty strings for what the
 * issuer kind does not carry; e-mail addresses and usernames are lowercased.
 */
export interface HumanIdentity {
  issuer: string;
  subject: string;
  email: string;
  username: string;
}

const EMAIL_TAGS = ["email", "user_email"] as const;
const USERNAME_TAGS = ["preferred_username", "username", "user_login", "actor"] as const;

const firstTag = (principal: Principal, names: readonly string[]): string =>
  (names.map((name) => principal.tags[name]).find((value) => value !== undefined && value !== "") ?? "")
    .trim()
    .toLowerCase();

export function humanIdentity(principal: Principal): HumanIdentity {
  return {
    issuer: principal.issuer,
    subject: principal.subject,
    email: firstTag(principal, EMAIL_TAGS),
    username: firstTag(principal, USERNAME_TAGS),
  };
}

/** For records made before identities were kept: what a principal id (`<issuer>:<sub>`) alone says. */
export function identityFromId(principalId: string): HumanIdentity {
  const colon = principalId.indexOf(":");
  return {
    issuer: colon < 0 ? "" : principalId.slice(0, colon),
    subject: colon < 0 ? principalId : principalId.slice(colon + 1),
    email: "",
    username: "",
  };
}
