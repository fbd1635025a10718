import type { NextFunction, Request, Response } from "express";
import { ZodError } from "zod";
import { BrokerError, isBrokerError, unavailable } from "../shared/errors.js";
import { createLogThrottle, type LogThrottle } from "../shared/log-throttle.js";
import type { Logger } from "../shared/logger.js";
import { isStoreFailure } from "../shared/redis-errors.js";
import { fromBodyParser } from "./request-body.js";

export function zodIssues(err: ZodError): { path: string; message: string }[] {
  return err.issues.map((issue) => ({ path: issue.path.join(".") || "(body)", message: issue.message }));
}

/**
 * A body the client got wrong is its fault whatever the store's state. Fail closed (DESIGN guarantee 4): an error the store raised (a refusal, a timeout, a lost connection), or
 * any unexpected error while the store is unreachable, is a 503: the request was not recorded, so nothing
 * was issued.
 */
export function toBrokerError(err: unknown, storeReady: () => boolean): BrokerError {
  if (isBrokerError(err)) return err;
  const bodyError = fromBodyParser(err);
  if (bodyError) return bodyError;
  if (err instanceof Error && (isStoreFailure(err) || !storeReady())) return unavailable(err);
  if (err instanceof ZodError) {
    return new BrokerError("invalid_request", "The request is invalid.", {
      details: { issues: zodIssues(err) },
    });
  }
  return new BrokerError("internal_error", "Something went wrong inside the broker.", { cause: err });
}

/** Server-side failures are logged once per cause and 10 s, with a count of the repeats held back. */
function logFailure(logger: Logger, throttle: LogThrottle, error: BrokerError): void {
  const cause = error.cause instanceof Error ? error.cause.message.split("\n")[0] : undefined;
  const held = throttle.admit(`${error.code} ${cause ?? ""}`);
  if (held === null) return;
  logger.error(
    { code: error.code, error: error.message, cause, ...(held > 0 ? { repeats_not_logged: held } : {}) },
    "request failed",
  );
}

/** The one place errors become HTTP: `{"error": {"code", "message", "details"?}}`. */
export function createErrorHandler(logger: Logger, storeReady: () => boolean) {
  const throttle = createLogThrottle(10_000);
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const error = toBrokerError(err, storeReady);
    if (error.status >= 500) logFailure(logger, throttle, error);
    if (error.code === "invalid_assertion") res.setHeader("WWW-Authenticate", 'Bearer error="invalid_token"');
    for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
    if (error.code === "invalid_client") {
      // RFC 6749 §5.2: OAuth clients (resource servers at /v1/introspect) read this shape, not ours.
      res.status(error.status).json({ error: "invalid_client", error_description: error.message });
      return;
    }
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
