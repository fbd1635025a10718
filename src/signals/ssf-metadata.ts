import { POLL_METHOD, PUSH_METHOD } from "./stream-types.js";

/** Where the stream management routes live under the broker's public URL. */
export const SSF_PATHS = {
  configuration: "/v1/ssf/streams",
  status: "/v1/ssf/status",
  verification: "/v1/ssf/verify",
} as const;

/**
 * SSF 1.0 §7.1 transmitter configuration metadata. `issuer` is the signer's issuer (the `iss` of every
 * SET); receivers authenticate as OAuth clients of the broker (`resource_servers`).
 */
export function ssfMetadata(publicUrl: string, issuer: string): Record<string, unknown> {
  const base = publicUrl.replace(/\/+$/, "");
  return {
    spec_version: "1_0",
    issuer,
    jwks_uri: `${base}/.well-known/jwks.json`,
    delivery_methods_supported: [PUSH_METHOD, POLL_METHOD],
    configuration_endpoint: `${base}${SSF_PATHS.configuration}`,
    status_endpoint: `${base}${SSF_PATHS.status}`,
    verification_endpoint: `${base}${SSF_PATHS.verification}`,
    authorization_schemes: [{ spec_urn: "urn:ietf:rfc:6749" }],
    default_subjects: "ALL",
  };
}
