import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import type { RequestHandler } from "express";
import helmet from "helmet";

/**
 * Helmet's default security headers, worked out once at start and then copied onto every response: the
 * defaults are the same for every request, and asking helmet per request cost several percent of an
 * issuance's CPU.
 */
export function securityHeaders(): RequestHandler {
  const request = new IncomingMessage(new Socket());
  const probe = new ServerResponse(request);
  let done = false;
  helmet()(request, probe, () => {
    done = true;
  });
  if (!done) throw new Error("helmet did not set its headers synchronously");
  const headers = Object.entries(probe.getHeaders()).flatMap(([name, value]) =>
    value === undefined ? [] : [[name, Array.isArray(value) ? value.join(", ") : String(value)] as const],
  );
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
