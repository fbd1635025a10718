/**
 * RFC 8414 authorization-server metadata: what the broker's OAuth side is, built from what it actually
 * serves. Every endpoint and method listed here is one the broker honours; nothing is published for
 * completeness (no `authorization_endpoint`: the broker runs no browser flow; `response_types_supported`
 * is the empty list RFC 8414 §2 requires of a server that supports none).
 */

/** The parts of the broker the metadata describes. */
export interface OAuthMetadataInput {
  /** The signer's `iss`: RFC 8414 §3.3 requires `issuer` to equal it. */
  issuer: string;
  /** `server.public_url`: where the endpoints are reached. */
  publicUrl: string;
  /** Scopes of the signer profiles (`scopes_supported`). */
  scopes: readonly string[];
  /** `alg` values resource servers may sign `private_key_jwt` client assertions with. */
  clientAssertionAlgorithms: readonly string[];
  /** Grant types the token endpoint accepts. */
  grantTypes: readonly string[];
  /** `alg` values the token endpoint accepts in DPoP proofs; empty when DPoP is not offered. */
  dpopAlgorithms: readonly string[];
}

/** The paths of the OAuth endpoints, relative to `server.public_url`. */
export const OAUTH_PATHS = {
  token: "/oauth/token",
  introspection: "/v1/introspect",
  revocation: "/oauth/revoke",
  jwks: "/.well-known/jwks.json",
} as const;

/** RFC 8414 §2 names, plus `dpop_signing_alg_values_supported` (RFC 9449 §5.1). */
export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri: string;
  response_types_supported: string[];
  scopes_supported: string[];
  token_endpoint?: string;
  grant_types_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  introspection_endpoint: string;
  introspection_endpoint_auth_methods_supported: string[];
  introspection_endpoint_auth_signing_alg_values_supported: string[];
  revocation_endpoint: string;
  revocation_endpoint_auth_methods_supported: string[];
  revocation_endpoint_auth_signing_alg_values_supported: string[];
  dpop_signing_alg_values_supported?: string[];
}

/**
 * Client authentication at introspection and revocation: the resource servers of `resource_servers` (a
 * workload bearer assertion is accepted too; it is no OAuth client method, so it is not listed).
 */
export const CLIENT_AUTH_METHODS = ["client_secret_basic", "private_key_jwt"] as const;

const trimSlash = (url: string) => url.replace(/\/+$/, "");

export function buildAuthorizationServerMetadata(input: OAuthMetadataInput): AuthorizationServerMetadata {
  const base = trimSlash(input.publicUrl);
  const tokenEndpoint =
    input.grantTypes.length === 0
      ? {}
      : {
          token_endpoint: `${base}${OAUTH_PATHS.token}`,
          grant_types_supported: [...input.grantTypes],
          // The grants carry their own assertion: the token endpoint authenticates no client.
          token_endpoint_auth_methods_supported: ["none"],
        };
  return {
    issuer: input.issuer,
    jwks_uri: `${base}${OAUTH_PATHS.jwks}`,
    response_types_supported: [],
    scopes_supported: [...new Set(input.scopes)].sort(),
    ...tokenEndpoint,
    introspection_endpoint: `${base}${OAUTH_PATHS.introspection}`,
    introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    introspection_endpoint_auth_signing_alg_values_supported: [...input.clientAssertionAlgorithms],
    revocation_endpoint: `${base}${OAUTH_PATHS.revocation}`,
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...input.clientAssertionAlgorithms],
    ...(input.dpopAlgorithms.length > 0
      ? { dpop_signing_alg_values_supported: [...input.dpopAlgorithms] }
      : {}),
  };
}

/**
 * Where the metadata is served on this broker (RFC 8414 §3.1 and OpenID Connect Discovery §4): for an
 * issuer with a path, `/.well-known/oauth-authorization-server<path>` and `<path>/.well-known/openid-configuration`.
 */
export function metadataPaths(issuer: string): string[] {
  const path = trimSlash(new URL(issuer).pathname);
  return [`/.well-known/oauth-authorization-server${path}`, `${path}/.well-known/openid-configuration`];
}
