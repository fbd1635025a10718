import type { NextFunction, Request, Response } from "express";
import { asOAuthError, fromBrokerError, type OAuthError } from "../oauth/oauth-errors.js";
import { isBrokerError } from "../shared/errors.js";
import { createLogThrottle } from "../shared/log-throttle.js";
import type { Logger } from "../shared/logger.js";
import { toBrokerError } from "./error-handler.js";

/**
 * Errors of the OAuth endpoints (`/oauth/*`) in the RFC 6749 §5.2 shape: `{"error", "error_description",
 * …}` (CIBA adds `auth_req_id`, `expires_in`, `interval`), never the API's `{"error": {code, …}}`.
 * Unexpected errors become `server_error`, or `temporarily_unavailable` while the store is down, and are
 * logged once per cause and 10 s.
 */
export function createOAuthErrorHandler(deps: {
  logger: Logger;
  storeReady: () => boolean;
  /**
   * A grant whose workload JWT failed verification: counted against the address like a rejected bearer
   * assertion on `/v1` (address guard, rejection summary). Its reason only, never the token.
   */
  onRejectedAssertion: (req: Request, reason: string) => Promise<void>;
}) {
  const { logger, storeReady } = deps;
  const throttle = createLogThrottle(10_000);
  return async (err: unknown, req: Request, res: Response, _next: NextFunction): Promise<void> => {
    const error: OAuthError = asOAuthError(err) ?? fromBrokerError(toBrokerError(err, storeReady));
    const rejected = rejectedAssertionReason(error);
    if (rejected !== undefined) await deps.onRejectedAssertion(req, rejected).catch(() => undefined);
    if (error.status >= 500) {
      const cause = error.cause instanceof Error ? error.cause.message.split("\n")[0] : undefined;
      const held = throttle.admit(`${error.error} ${cause ?? ""}`);
      if (held !== null)
        logger.error({ code: error.error, error: error.message, cause }, "oauth request failed");
    }
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Pragma", "no-cache");
    res.status(error.status).json({ error: error.error, error_description: error.message, ...error.extra });
  };
}

/** The verifier's reason when the OAuth error stands for a rejected workload assertion. */
function rejectedAssertionReason(error: OAuthError): string | undefined {
  const cause = error.cause;
  if (!isBrokerError(cause) || cause.code !== "invalid_assertion") return undefined;
  const reason = cause.details?.reason;
  return typeof reason === "string" ? reason : "invalid";
}
