import type { z } from "zod";
import type { BrokerErrorCode } from "../../shared/errors.js";

/** How a caller authenticates: none, a bearer workload assertion, or that or resource-server client auth. */
export type OperationAuth = "public" | "workload" | "client";

/** A response: a named component schema (`responses` of openapi-document.ts), or a non-JSON body. */
export type ResponseBody =
  | { component: string; description: string; alsoHtml?: boolean }
  | { mediaType: "text/plain" | "text/html"; description: string }
  | { empty: true; description: string };

export interface Operation {
  method: "get" | "post" | "patch" | "delete";
  /** OpenAPI path template (`{task_id}`). */
  path: string;
  operationId: string;
  tag:
    | "tasks"
    | "credentials"
    | "approvals"
    | "introspection"
    | "signals"
    | "admin"
    | "audit"
    | "oauth"
    | "public";
  summary: string;
  description?: string;
  auth: OperationAuth;
  /** The Cedar action that decides the call (`x-policy-action`). */
  policyAction?: string;
  query?: z.ZodObject;
  /**
   * `optional`: a request without a body is accepted; `form`: also application/x-www-form-urlencoded;
   * `formOnly`: only that (the OAuth endpoints).
   */
  body?: { schema: z.ZodType; component: string; optional?: boolean; form?: boolean; formOnly?: boolean };
  responses: Partial<Record<number, ResponseBody>>;
  /** An OAuth endpoint: its error statuses, each answered in the RFC 6749 shape (`OAuthTokenError`). */
  oauthErrorStatuses?: number[];
  /** Error codes the route's own logic can answer, besides those every authenticated route can. */
  errors: BrokerErrorCode[];
}
