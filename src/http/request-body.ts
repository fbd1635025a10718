import type { NextFunction, Request, RequestHandler, Response } from "express";
import { BrokerError } from "../shared/errors.js";

/**
 * How request bodies are read, and which body failures a client can cause. Every body is JSON (≤ 64 KiB
 * after decompression), except where a route also accepts another type (`POST /v1/introspect`: forms).
 * All of these are 400 `invalid_request` with an issue naming the header or the body: the request is
 * wrong and will not get better by retrying, and clients already branch on that code.
 */

/** The body types a route takes when it names none. */
export const JSON_ONLY: readonly string[] = ["application/json"];

/** A 400 whose one issue is at `path` (a header name or `(body)`). */
const invalidAt = (path: string, message: string, issue: string): BrokerError =>
  new BrokerError("invalid_request", message, { details: { issues: [{ path, message: issue }] } });

/** Whether the request carries body bytes (a zero Content-Length carries none). */
function carriesBody(req: Request): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const length = req.headers["content-length"];
  return length !== undefined && length !== "0";
}

/**
 * Refuses a body whose Content-Type is not one of `types` (a missing one included), so a form or text body
 * is told what to send instead of getting the schema's complaints about fields it could not see. Requests
 * without a body pass; their schema reports what is missing.
 */
export function requireBodyType(types: readonly string[] = JSON_ONLY): RequestHandler {
  const expected = types.join(" or ");
  return (req: Request, _res: Response, next: NextFunction) => {
    if (req.method === "GET" || req.method === "HEAD" || !carriesBody(req) || req.is([...types])) {
      return next();
    }
    next(
      invalidAt(
        "Content-Type",
        `Content-Type must be ${expected}.`,
        `expected ${expected}, got ${req.headers["content-type"] === undefined ? "none" : "another type"}`,
      ),
    );
  };
}

/** The fields of body-parser's errors (http-errors) this module reads. */
interface BodyParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
}

const isBodyParserError = (err: unknown): err is BodyParserError =>
  typeof err === "object" && err !== null && ("type" in err || "expose" in err);

/**
 * body-parser's errors that a client causes, as BrokerErrors; null for anything else. A body that does not
 * decompress (gzip that is not gzip) is 400 about the body; an encoding other than identity, gzip, deflate
 * or br is 400 about Content-Encoding; a charset other than UTF-8 is 400 about Content-Type.
 */
export function fromBodyParser(err: unknown): BrokerError | null {
  if (!isBodyParserError(err)) return null;
  switch (err.type) {
    case "entity.too.large":
      return new BrokerError("payload_too_large", "The request body is larger than 64 KiB.");
    case "entity.parse.failed":
      return invalidAt("(body)", "The request body is not valid JSON.", "not a JSON object or array");
    case "encoding.unsupported":
      return invalidAt(
        "Content-Encoding",
        "Content-Encoding must be identity, gzip, deflate or br.",
        "unsupported content encoding",
      );
    case "charset.unsupported":
      return invalidAt("Content-Type", "The request body must be UTF-8 JSON.", "unsupported charset");
  }
  // Other client-caused read failures (a body that does not decompress, a length that does not match)
  // come as exposed 4xx http-errors without a type we know.
  if (err.expose === true && typeof err.status === "number" && err.status >= 400 && err.status < 500) {
    return invalidAt(
      "(body)",
      "The request body could not be read (corrupt compressed data or a length that does not match).",
      "unreadable body",
    );
  }
  return null;
}
