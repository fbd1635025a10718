import { revokeTokenBody, tokenRequestBody } from "../routes/oauth-routes.js";
import type { Operation } from "./operation-types.js";

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
  {
    method: "post",
    path: "/oauth/token",
    operationId: "oauthToken",
    tag: "oauth",
    summary: "RFC 6749 token endpoint: JWT-bearer (RFC 7523), CIBA poll and token-exchange (RFC 8693) grants",
    description:
      "Form-encoded. `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with `assertion` (a task " +
      "token, or a workload JWT plus `task_id`), `resource` (RFC 8707) and optional `scope`; " +
      "`grant_type=urn:openid:params:grant-type:ciba` with `auth_req_id` and the requester's " +
      "`client_assertion`; `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` with " +
      "`subject_token`, the caller's `actor_token` and `resource`/`audience`. Every token is a credential " +
      "of its task (docs/oauth.md).",
    auth: "public",
    policyAction: "RequestCredential",
    body: { schema: tokenRequestBody, component: "TokenRequest", formOnly: true },
    responses: { 200: { component: "TokenResponse", description: "The access token" } },
    oauthErrorStatuses: [400, 401, 404, 413, 429, 500, 502, 503],
    errors: [],
  },
  {
    method: "post",
    path: "/oauth/revoke",
    operationId: "oauthRevoke",
    tag: "oauth",
    summary: "RFC 7009 revocation of a signer token",
    description:
      "Form-encoded `token` (and `token_type_hint`). A resource server (`client_secret_basic`, " +
      "`private_key_jwt`) may revoke tokens of its audiences, a workload its own; only that credential is " +
      "revoked. `200` with an empty body whether or not the token was live; a task token is " +
      "`unsupported_token_type`.",
    auth: "client",
    policyAction: "Introspect",
    body: { schema: revokeTokenBody, component: "TokenRevocationRequest", formOnly: true },
    responses: { 200: { empty: true, description: "Revoked, or nothing to revoke" } },
    oauthErrorStatuses: [400, 401, 413, 429, 500, 503],
    errors: [],
  },
];
