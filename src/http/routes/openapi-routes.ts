import { Router } from "express";
import type { OpenApiDocument } from "../openapi/openapi-document.js";

/** `GET /openapi.json` (public): the document built once at start from the validating schemas. */
export function openApiRoute(document: OpenApiDocument): Router {
  const router = Router();
  const body = JSON.stringify(document);
  router.get("/openapi.json", (_req, res) => {
    res.setHeader("Cache-Control", "public, max-age=300");
    res.type("json").send(body);
  });
  return router;
}
