import express, { Router } from "express";
import { TransientProviderError } from "../../../providers/provider-errors.js";
import type { SignerProvider } from "../../../providers/signer/signer-provider.js";
import { BrokerError } from "../../shared/errors.js";
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

/** `POST /v1/introspect` (RFC 7662), behind authentication; JSON or form-encoded. */
export function introspectRoute(signer: Pick<SignerProvider, "introspect">): Router {
  const router = Router();
  router.post("/", express.urlencoded({ extended: false, limit: "64kb" }), async (req, res) => {
    const body = parseInput(introspectBody, req.body);
    try {
      res.setHeader("Cache-Control", "no-store");
      res.json(await signer.introspect(body.token));
    } catch (cause) {
      if (cause instanceof TransientProviderError) {
        throw new BrokerError("unavailable", "The broker cannot check revocation right now.", { cause });
      }
      throw cause;
    }
  });
  return router;
}
