import type { IssuerKind } from "../config/config-schema.js";

/** An issuer's kind, or `resource_server` for an OAuth client declared in `resource_servers`. */
export type PrincipalKind = IssuerKind | "resource_server";

/**
 * A verified caller: a workload behind a valid assertion from a configured issuer (built only by the
 * assertion verifier, after signature, claims and optional replay checks passed), or a resource server
 * that authenticated as an OAuth client (built only by the resource-server authenticator; such a principal
 * reaches `POST /v1/introspect` and nothing else).
 */
export interface Principal {
  /** `"<issuer name>:<sub>"`, the identity tasks, policies and audit events refer to. */
  id: string;
  /** Name of the configured issuer that vouched for this principal. */
  issuer: string;
  /** The assertion's `sub`, unchanged. */
  subject: string;
  /** Kind of the issuer; decides which normalised tags exist. */
  kind: PrincipalKind;
  /** The verified JWT payload as received (assertions carry no secret claims). */
  claims: Record<string, unknown>;
  /**
   * Normalised, string-valued claims for the policy engine (see claim-normalisation.ts): only
   * claims present in the assertion appear, and every value is a string.
   */
  tags: Record<string, string>;
  /** Only for a resource server: its client id and the token audiences it may introspect. */
  resourceServer?: { clientId: string; audiences: readonly string[] };
}
