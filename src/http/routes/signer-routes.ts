import { Router } from "express";
import type { SignerProvider } from "../../../providers/signer/signer-provider.js";
import type { IntrospectionService } from "../../introspection/introspection-service.js";
import { principalOf } from "../principal-of.js";
import { introspectBody } from "../schemas.js";
import { parseInput } from "../validate.js";

/** `GET /.well-known/jwks.json` (public), for resource servers verifying signer tokens. */
export function jwksRoute(signer: Pick<SignerProvider, "jwks">): Router {
  const router = Router();
  router.get("/.well-known/jwks.json", async (_req, res) => {
    res.setHeader("Cache-Control", "public, max-age=60");
    res.json(await signer.jwks());
  });
  return router;
}

/**
 * `POST /v1/introspect` (RFC 7662), JSON or form-encoded. Mounted as a client route: the form body is
 * parsed and the caller authenticated (workload assertion or resource-server client) before it runs.
 */
export function introspectRoute(deps: { introspection: IntrospectionService }): Router {
  const router = Router();
  router.post("/", async (req, res) => {
    const body = parseInput(introspectBody, req.body);
    const answer = await deps.introspection.introspect(principalOf(req), body.token);
    res.setHeader("Cache-Control", "no-store");
    res.json(answer);
  });
  return router;
}
