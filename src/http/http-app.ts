import express, { type Express, type RequestHandler, type Router } from "express";
import helmet from "helmet";
import type { Logger } from "../shared/logger.js";
import { createErrorHandler, notFoundRoute } from "./error-handler.js";
import { requestId } from "./request-id.js";

export interface HttpAppParts {
  logger: Logger;
  /** Whether the Redis connection is up; unexpected errors while it is down answer 503. */
  storeReady: () => boolean;
  trustProxy: number;
  authenticate: RequestHandler;
  /** A workload assertion or resource-server client authentication (routes in `clientRoutes`). */
  authenticateClient: RequestHandler;
  rateLimit: RequestHandler;
  /** Unauthenticated: health, metrics, JWKS. */
  publicRoutes: Router[];
  /**
   * Mounted under /v1 before `v1`, for resource servers: a form body (RFC 7662) is parsed, then
   * `authenticateClient` and the rate limit run.
   */
  clientRoutes: { path: string; router: Router }[];
  /** Mounted under /v1 behind authentication and the rate limit. */
  v1: { path: string; router: Router }[];
}

/**
 * The route table: public routes, then the client routes (workload or resource-server authentication),
 * then `/v1/*` behind workload authentication; every authenticated route has the per-principal rate limit.
 */
export function createHttpApp(parts: HttpAppParts): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", parts.trustProxy);
  app.use(requestId);
  app.use(helmet());
  app.use(express.json({ limit: "64kb", strict: true }));
  for (const router of parts.publicRoutes) app.use(router);
  const form = express.urlencoded({ extended: false, limit: "64kb" });
  for (const { path, router } of parts.clientRoutes) {
    app.use(`/v1${path}`, form, parts.authenticateClient, parts.rateLimit, router);
  }
  const v1 = express.Router();
  v1.use(parts.authenticate, parts.rateLimit);
  for (const { path, router } of parts.v1) v1.use(path, router);
  app.use("/v1", v1);
  app.use(notFoundRoute);
  app.use(createErrorHandler(parts.logger, parts.storeReady));
  return app;
}
