import { Router } from "express";
import { type AuthorizationServerMetadata, metadataPaths } from "../../oauth/oauth-metadata.js";

/**
 * RFC 8414 metadata, public: the same document at `/.well-known/oauth-authorization-server` and
 * `/.well-known/openid-configuration` (with the issuer's path, when it has one).
 */
export function oauthMetadataRoute(metadata: AuthorizationServerMetadata): Router {
  const router = Router();
  for (const path of metadataPaths(metadata.issuer)) {
    router.get(path, (_req, res) => {
      res.setHeader("Cache-Control", "public, max-age=300");
      res.json(metadata);
    });
  }
  return router;
}
