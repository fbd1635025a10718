import { decodeJwt } from "jose";

/**
 * The configured issuer name a token claims to come from, read WITHOUT verification, for grouping
 * rejections only: `unknown` for anything that is not a configured issuer (so an attacker cannot grow
 * the summaries with made-up issuers), `unreadable` for what is not a JWT.
 */
export function createIssuerNamer(issuers: readonly { name: string; issuer: string }[]) {
  const byIss = new Map(issuers.map((issuer) => [issuer.issuer, issuer.name]));
  return (token: string | undefined): string => {
    if (!token) return "none";
    try {
      const iss = decodeJwt(token).iss;
      return (iss !== undefined && byIss.get(iss)) || "unknown";
    } catch {
      return "unreadable";
    }
  };
}
