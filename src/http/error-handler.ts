import type { NextFunction, Request, Response } from "express";
import { ZodError } from "zod";
import { BrokerError, isBrokerError, unavailable } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";

export function zodIssues(err: ZodError): { path: string; message: string }[] {
  return err.issues.map((issue) => ({ path: issue.path.join(".") || "(body)", message: issue.message }));
}

/** A 400 about the body as a whole; API.md: every invalid_request lists `details.issues`. */
const invalidBody = (message: string, issue: string): BrokerError =>
  new BrokerError("invalid_request", message, { details: { issues: [{ path: "(body)", message: issue }] } });

/** body-parser reports its errors with a `type`; map the ones a client can cause. */
function fromBodyParser(err: unknown): BrokerError | null {
  if (typeof err !== "object" || err === null || !("type" in err)) return null;
  if (err.type === "entity.too.large")
    return new BrokerError("payload_too_large", "The request body is larger than 64 KiB.");
  if (err.type === "entity.parse.failed")
    return invalidBody("The request body is not valid JSON.", "not a JSON object or array");
  if (err.type === "charset.unsupported" || err.type === "encoding.unsupported") {
    return invalidBody("The request body must be UTF-8 JSON.", "unsupported charset or content encoding");
  }
  return null;
}

/** Error classes ioredis raises for a store that refuses or cannot take a command (identified by class name). */
const STORE_ERROR_NAMES = new Set([
  "ReplyError",
  "MaxRetriesPerRequestError",
  "AbortError",
  "ClusterAllFailedError",
]);

/**
 * Fail closed (DESIGN guarantee 4): an unexpected error while the store is unreachable, or an error the
 * store itself raised, is a 503 — the request was not recorded, so nothing was issued.
 */
function isStoreFailure(err: unknown, storeReady: () => boolean): boolean {
  return err instanceof Error && (STORE_ERROR_NAMES.has(err.name) || !storeReady());
}

function toBrokerError(err: unknown, storeReady: () => boolean): BrokerError {
  if (isBrokerError(err)) return err;
  if (isStoreFailure(err, storeReady)) return unavailable(err);
  if (err instanceof ZodError) {
    return new BrokerError("invalid_request", "The request is invalid.", {
      details: { issues: zodIssues(err) },
    });
  }
  return (
    fromBodyParser(err) ??
    new BrokerError("internal_error", "Something went wrong inside the broker.", { cause: err })
  );
}

/** The one place errors become HTTP: `{"error": {"code", "message", "details"?}}`. */
export function createErrorHandler(logger: Logger, storeReady: () => boolean) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const error = toBrokerError(err, storeReady);
    if (error.status >= 500) {
      const cause = error.cause instanceof Error ? error.cause.message : undefined;
      logger.error({ code: error.code, error: error.message, cause }, "request failed");
    }
    if (error.code === "invalid_assertion") res.setHeader("WWW-Authenticate", 'Bearer error="invalid_token"');
    for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
    const body: { code: string; message: string; details?: Record<string, unknown> } = {
      code: error.code,
      message: error.message,
    };
    if (error.details) body.details = error.details;
    res.status(error.status).json({ error: body });
  };
}

export function notFoundRoute(_req: Request, _res: Response, next: NextFunction): void {
  next(new BrokerError("not_found", "No such route."));
}
