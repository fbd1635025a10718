import type { IssuerKind } from "../config/config-schema.js";

/**
 * A verified workload identity: the caller behind a valid assertion from a configured issuer.
 * Built only by the assertion verifier, after signature, claims and (optional) replay checks passed.
 */
export interface Principal {
  /** `"<issuer name>:<sub>"`, the identity tasks, policies and audit events refer to. */
  id: string;
  /** Name of the configured issuer that vouched for this principal. */
  issuer: string;
  /** The assertion's `sub`, unchanged. */
  subject: string;
  /** Kind of the issuer; decides which normalised tags exist. */
  kind: IssuerKind;
  /** The verified JWT payload as received (assertions carry no secret claims). */
  claims: Record<string, unknown>;
  /**
   * Normalised, string-valued claims for the policy engine (see claim-normalisation.ts): only
   * claims present in the assertion appear, and every value is a string.
   */
  tags: Record<string, string>;
}
