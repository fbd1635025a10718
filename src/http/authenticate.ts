import type { NextFunction, Request, Response } from "express";
import type { AssertionVerifier } from "../auth/assertion-verifier.js";
import type { RejectionSummary } from "../auth/rejection-summary.js";
import { BrokerError, isBrokerError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import type { AddressGuard } from "./address-guard.js";
import { setPrincipal } from "./principal-of.js";

/**
 * Verifies the bearer workload assertion. Rejections go to the rejection summary (a few recorded in full,
 * all counted; best effort: a rejected caller gets its 401 regardless) with the reason, never the token,
 * and count against the client address's budget (`address-guard.ts`).
 */
export function createAuthenticate(deps: {
  verifier: Pick<AssertionVerifier, "verify">;
  rejections: Pick<RejectionSummary, "record">;
  guard: Pick<AddressGuard, "rejected">;
  issuerName: (token: string | undefined) => string;
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
        const address = req.ip ?? "";
        deps.guard.rejected(address);
        await deps.rejections.record({
          issuer: deps.issuerName(match?.[1]),
          reason,
          address,
          path: req.path,
          method: req.method,
        });
      }
      next(err);
    }
  };
}
