import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Router } from "express";
import { OAuthError } from "../oauth/oauth-errors.js";
import type { Logger } from "../shared/logger.js";
import { createErrorHandler, notFoundRoute } from "./error-handler.js";
import { JSON_ONLY, requireBodyType } from "./request-body.js";
import { requestId } from "./request-id.js";
import { securityHeaders } from "./security-headers.js";

export interface HttpAppParts {
  logger: Logger;
  /** Whether the Redis connection is up; unexpected errors while it is down answer 503. */
  storeReady: () => boolean;
  trustProxy: number;
  /** Before authentication: refuses addresses that keep presenting rejected assertions. */
  addressGuard: RequestHandler;
  authenticate: RequestHandler;
  /** A workload assertion or resource-server client authentication (routes in `clientRoutes`). */
  authenticateClient: RequestHandler;
  rateLimit: RequestHandler;
  /** Unauthenticated: health, metrics, JWKS. */
  publicRoutes: Router[];
  /**
   * Mounted under /v1 before `v1`, for resource servers: a JSON or form body (RFC 7662) is parsed, then
   * the address guard, `authenticateClient` and the rate limit run.
   */
  clientRoutes: { path: string; router: Router }[];
  /**
   * Mounted at `/oauth` (token endpoint, revocation): a form body is parsed, the address guard runs, and
   * errors take the RFC 6749 shape (`oauthErrors`). The grants authenticate their callers themselves.
   */
  oauthRoutes: Router[];
  /** Mounted at `/oauth` like `oauthRoutes`, behind `authenticateClient` and the rate limit (revocation). */
  oauthClientRoutes: { path: string; router: Router }[];
  oauthErrors: ErrorRequestHandler;
  /**
   * Mounted under /v1 behind authentication and the rate limit. A body must be JSON unless `bodyTypes`
   * names the Content-Types the router parses itself.
   */
  v1: { path: string; router: Router; bodyTypes?: readonly string[] }[];
}

const CLIENT_BODY_TYPES = ["application/json", "application/x-www-form-urlencoded"] as const;

/**
 * The route table: public routes, then the client routes (workload or resource-server authentication),
 * then `/v1/*` behind workload authentication; every authenticated route has the per-principal rate limit.
 * Bodies are JSON of at most 64 KiB; a body of another Content-Type is refused (`request-body.ts`).
 */
export function createHttpApp(parts: HttpAppParts): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", parts.trustProxy);
  app.use(requestId);
  app.use(securityHeaders());
  app.use(express.json({ limit: "64kb", strict: true }));
  for (const router of parts.publicRoutes) app.use(router);
  const form = express.urlencoded({ extended: false, limit: "64kb" });
  for (const { path, router } of parts.clientRoutes) {
    const guarded = [requireBodyType(CLIENT_BODY_TYPES), form, parts.addressGuard, parts.authenticateClient];
    app.use(`/v1${path}`, ...guarded, parts.rateLimit, router);
  }
  const noOAuthRoute: RequestHandler = (_req, _res, next) =>
    next(new OAuthError("invalid_request", "No such route.", { status: 404 }));
  for (const { path, router } of parts.oauthClientRoutes) {
    app.use(`/oauth${path}`, form, parts.addressGuard, parts.authenticateClient, parts.rateLimit, router);
  }
  app.use("/oauth", form, parts.addressGuard, ...parts.oauthRoutes, noOAuthRoute, parts.oauthErrors);
  const v1 = express.Router();
  v1.use(parts.addressGuard, parts.authenticate, parts.rateLimit);
  for (const { path, router, bodyTypes } of parts.v1) {
    v1.use(path, requireBodyType(bodyTypes ?? JSON_ONLY), router);
  }
  app.use("/v1", v1);
  app.use(notFoundRoute);
  app.use(createErrorHandler(parts.logger, parts.storeReady));
  return app;
}
