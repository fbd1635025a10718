import type { NextFunction, Request, Response } from "express";
import type { AuditLog } from "../audit/audit-log.js";
import type { AssertionVerifier } from "../auth/assertion-verifier.js";
import { BrokerError, isBrokerError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { setPrincipal } from "./principal-of.js";

/**
 * Verifies the bearer workload assertion. Rejections are audited (best effort: a rejected caller gets its
 * 401 whether or not the audit write succeeds) with the reason, never the token.
 */
export function createAuthenticate(deps: {
  verifier: Pick<AssertionVerifier, "verify">;
  audit: Pick<AuditLog, "append">;
  logger: Logger;
}) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const header = req.header("authorization") ?? "";
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    try {
      if (!match?.[1])
        throw new BrokerError("invalid_assertion", "A bearer workload assertion is required.", {
          details: { reason: "missing" },
        });
      setPrincipal(req, await deps.verifier.verify(match[1]));
      next();
    } catch (err) {
      if (isBrokerError(err) && err.code === "invalid_assertion") {
        const reason = typeof err.details?.reason === "string" ? err.details.reason : "invalid";
        await deps.audit
          .append({
            type: "assertion.rejected",
            actor: null,
            reason,
            details: { path: req.path, method: req.method },
          })
          .catch((auditErr: unknown) =>
            deps.logger.warn({ error: String(auditErr) }, "cannot audit a rejected assertion"),
          );
      }
      next(err);
    }
  };
}
