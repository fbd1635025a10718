import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { RejectionSummary } from "../auth/rejection-summary.js";
import { invalidClient, type ResourceServerAuthenticator } from "../auth/resource-server-auth.js";
import { isBrokerError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import type { AddressGuard } from "./address-guard.js";
import { setPrincipal } from "./principal-of.js";

/** RFC 7523 §2.2: the one `client_assertion_type` credbroker accepts. */
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** How the caller of a client route authenticates. */
type ClientCredentials =
  | { method: "bearer" }
  | { method: "client_secret_basic"; clientId: string; secret: string }
  | { method: "private_key_jwt"; assertion: string; clientId: string | undefined };

/**
 * Authentication for the routes resource servers call (`POST /v1/introspect`): a workload assertion
 * (`Authorization: Bearer`, handed to `bearer`), or OAuth client authentication (RFC 6749 §2.3):
 * `client_secret_basic`, or `private_key_jwt` in the form body. One method per request. A failed client
 * authentication goes to the rejection summary (reason `client_<why>`, sampled and counted like every
 * rejected assertion), counts against the address's budget, and answers 401 `invalid_client`; the secret
 * and the assertion are never logged or recorded.
 */
export function createAuthenticateClient(deps: {
  bearer: RequestHandler;
  clients: ResourceServerAuthenticator;
  rejections: Pick<RejectionSummary, "record">;
  guard: Pick<AddressGuard, "rejected">;
  logger: Logger;
}) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    let credentials: ClientCredentials;
    try {
      credentials = clientCredentials(req);
      if (credentials.method === "bearer") {
        await deps.bearer(req, res, next);
        return;
      }
      const principal =
        credentials.method === "client_secret_basic"
          ? await deps.clients.withSecret(credentials.clientId, credentials.secret)
          : await deps.clients.withAssertion(credentials.assertion, credentials.clientId);
      setPrincipal(req, principal);
      next();
    } catch (err) {
      if (isBrokerError(err) && err.code === "invalid_client") await recordRejection(deps, req, err.details);
      next(err);
    }
  };
}

async function recordRejection(
  deps: { rejections: Pick<RejectionSummary, "record">; guard: Pick<AddressGuard, "rejected"> },
  req: Request,
  details: Record<string, unknown> | undefined,
): Promise<void> {
  const reason = typeof details?.reason === "string" ? details.reason : "invalid";
  const address = req.ip ?? "";
  deps.guard.rejected(address);
  await deps.rejections.record({
    issuer: "resource_server",
    reason: `client_${reason}`,
    address,
    path: req.originalUrl.split("?")[0] ?? req.path,
    method: req.method,
  });
}

/** Which method the request uses; more than one, or a malformed one, is `invalid_client`. */
function clientCredentials(req: Request): ClientCredentials {
  const header = req.header("authorization") ?? "";
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const body = formFields(req.body);
  const assertionFields = body.client_assertion !== undefined || body.client_assertion_type !== undefined;
  if (!assertionFields && !/^Basic\b/i.test(header)) return { method: "bearer" };
  if (assertionFields && header !== "") throw invalidClient("multiple_methods", basic !== null);
  if (assertionFields) {
    if (body.client_assertion_type !== JWT_BEARER_ASSERTION_TYPE || body.client_assertion === undefined) {
      throw invalidClient("unsupported_assertion_type");
    }
    return { method: "private_key_jwt", assertion: body.client_assertion, clientId: body.client_id };
  }
  if (!basic?.[1]) throw invalidClient("malformed_basic", true);
  return { method: "client_secret_basic", ...decodeBasic(basic[1]) };
}

/** The string fields of a parsed body (form or JSON); anything else is ignored here. */
function formFields(body: unknown): Record<string, string | undefined> {
  if (typeof body !== "object" || body === null) return {};
  const fields: Record<string, string | undefined> = {};
  for (const name of ["client_assertion", "client_assertion_type", "client_id"]) {
    const value: unknown = (body as Record<string, unknown>)[name];
    if (value !== undefined) fields[name] = typeof value === "string" ? value : "";
  }
  return fields;
}

/**
 * RFC 6749 §2.3.1: `base64(urlencode(client_id) ":" urlencode(client_secret))`, each part encoded with
 * application/x-www-form-urlencoded (so `+` is a space).
 */
function decodeBasic(encoded: string): { clientId: string; secret: string } {
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw invalidClient("malformed_basic", true);
  try {
    const formDecode = (part: string) => decodeURIComponent(part.replace(/\+/g, " "));
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw invalidClient("malformed_basic", true);
  }
}
