import { Router } from "express";
import { z } from "zod";
import { OAuthError } from "../../oauth/oauth-errors.js";
import { type AuthorizationServerMetadata, metadataPaths } from "../../oauth/oauth-metadata.js";
import type { TokenRevocation } from "../../oauth/token-revocation.js";
import type { TokenService } from "../../oauth/token-service.js";
import { principalOf } from "../principal-of.js";

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
export function tokenRoute(deps: { tokens: TokenService; tokenEndpointUrl: string }): Router {
  const router = Router();
  router.post("/token", async (req, res) => {
    if (!req.is("application/x-www-form-urlencoded")) {
      throw new OAuthError("invalid_request", "The token request must be application/x-www-form-urlencoded.");
    }
    const body = tokenRequestBody.safeParse(req.body);
    if (!body.success) throw new OAuthError("invalid_request", "The token request is not a flat form.");
    const answer = await deps.tokens.grant(body.data, {
      header: req.header("dpop"),
      method: req.method,
      url: deps.tokenEndpointUrl,
    });
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Pragma", "no-cache");
    res.json(answer);
  });
  return router;
}

/** RFC 7009 §2.1 body: `token` and an optional `token_type_hint`, plus the client-assertion fields. */
export const revokeTokenBody = z.object({
  token: z.string().min(1).max(16_384),
  token_type_hint: z.string().max(64).optional(),
  client_id: z.string().max(128).optional(),
  client_assertion_type: z.string().max(256).optional(),
  client_assertion: z.string().max(16_384).optional(),
});

/**
 * `POST /oauth/revoke` (RFC 7009), mounted behind client authentication (a resource server, or the token's
 * agent with its workload assertion): `200` with an empty body whether or not the token was live (§2.2).
 */
export function revokeRoute(deps: { revoke: TokenRevocation }): Router {
  const router = Router();
  router.post("/", async (req, res) => {
    if (!req.is("application/x-www-form-urlencoded")) {
      throw new OAuthError(
        "invalid_request",
        "The revocation request must be application/x-www-form-urlencoded.",
      );
    }
    const body = revokeTokenBody.safeParse(req.body);
    if (!body.success) throw new OAuthError("invalid_request", "token is required (one, at most 16 KiB).");
    await deps.revoke(principalOf(req), body.data.token);
    res.setHeader("Cache-Control", "no-store");
    res.status(200).end();
  });
  return router;
}
