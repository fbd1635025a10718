/**
 * credbroker's resource-server kit (`import … from "credbroker/resource-server"`): RFC 9728 metadata and
 * verification of broker access tokens (issuer, audience, `typ`, expiry, scopes, DPoP binding, revocation
 * through a short-lived introspection cache or a Shared Signals feed), answering as the MCP authorization
 * specification requires.
 */
export {
  createResourceServer,
  type KitMiddleware,
  type KitNext,
  type KitRequest,
  type KitResponse,
  type ResourceServer,
  type ResourceServerOptions,
  type VerifiedToken,
  verifiedToken,
} from "./resource-server.js";
export {
  createRevocationFeed,
  type RevocationFeed,
  type RevocationFeedOptions,
} from "./revocation-feed.js";
