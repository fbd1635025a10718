import { Router } from "express";
import { z } from "zod";
import { OAuthError } from "../../oauth/oauth-errors.js";
import { type AuthorizationServerMetadata, metadataPaths } from "../../oauth/oauth-metadata.js";
import type { TokenService } from "../../oauth/token-service.js";

/** A form body as the urlencoded parser gives it (a repeated field is an array); RFC 6749 §3.2 ignores unknown fields. */
export const tokenRequestBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

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

/** `POST /oauth/token` (RFC 6749 §3.2): form-encoded; answers are never cached (§5.1). */
export function tokenRoute(deps: { tokens: TokenService }): Router {
  const router = Router();
  router.post("/token", async (req, res) => {
    if (!req.is("application/x-www-form-urlencoded")) {
      throw new OAuthError("invalid_request", "The token request must be application/x-www-form-urlencoded.");
    }
    const body = tokenRequestBody.safeParse(req.body);
    if (!body.success) throw new OAuthError("invalid_request", "The token request is not a flat form.");
    const answer = await deps.tokens.grant(body.data);
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Pragma", "no-cache");
    res.json(answer);
  });
  return router;
}
