import type { NextFunction, Request, Response } from "express";
import { newId } from "../shared/ids.js";
import { runWithRequestId } from "../shared/logger.js";

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echoes a sane client `X-Request-Id` or makes one, and carries it through the async call tree. */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const offered = req.header("x-request-id");
  const id = offered && CLIENT_ID.test(offered) ? offered : newId("req");
  res.setHeader("X-Request-Id", id);
  runWithRequestId(id, next);
}
