import { Router } from "express";
import type { WhoAmIService } from "../../auth/whoami.js";
import { principalOf } from "../principal-of.js";

/** `GET /v1/whoami`: the caller's principal and a dry run of what the policy allows it. */
export function whoamiRoutes(deps: { whoami: WhoAmIService }): Router {
  const router = Router();
  router.get("/", (req, res) => {
    res.json(deps.whoami(principalOf(req)));
  });
  return router;
}
