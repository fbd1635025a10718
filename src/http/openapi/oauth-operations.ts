import type { Operation } from "./operations.js";

const metadata = {
  component: "AuthorizationServerMetadata",
  description: "RFC 8414 metadata (the same document at both paths)",
};

/** The OAuth routes (docs/oauth.md), documented like the API's own. */
export const OAUTH_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/.well-known/oauth-authorization-server",
    operationId: "oauthAuthorizationServerMetadata",
    tag: "public",
    summary: "RFC 8414 authorization-server metadata",
    auth: "public",
    responses: { 200: metadata },
    errors: [],
  },
  {
    method: "get",
    path: "/.well-known/openid-configuration",
    operationId: "openidConfiguration",
    tag: "public",
    summary: "The RFC 8414 metadata again, where OpenID Connect discovery looks for it",
    auth: "public",
    responses: { 200: metadata },
    errors: [],
  },
];
