import { z } from "zod";
import { OAUTH_ERROR_CODES } from "../../oauth/oauth-errors.js";
import { taskResponse, time } from "./response-schemas.js";

/**
 * Response bodies of the OAuth side (docs/oauth.md): RFC 8414 metadata, RFC 6749 §5 token responses and
 * errors. Exact objects, like the API's own (`response-schemas.ts`).
 */

const url = z.string().describe("An absolute URL");
const names = z.array(z.string());

export const authorizationServerMetadataResponse = z
  .object({
    issuer: url.describe("The signer's `iss`"),
    jwks_uri: url,
    response_types_supported: names.describe("Empty: the broker has no authorization endpoint"),
    scopes_supported: names.describe("The scopes of the signer profiles"),
    token_endpoint: url.optional(),
    grant_types_supported: names.optional(),
    token_endpoint_auth_methods_supported: names.optional(),
    introspection_endpoint: url,
    introspection_endpoint_auth_methods_supported: names,
    introspection_endpoint_auth_signing_alg_values_supported: names,
    revocation_endpoint: url.optional(),
    revocation_endpoint_auth_methods_supported: names.optional(),
    revocation_endpoint_auth_signing_alg_values_supported: names.optional(),
    dpop_signing_alg_values_supported: names.optional(),
  })
  .describe("RFC 8414 authorization-server metadata: only what the broker honours.");

const taskToken = z
  .string()
  .describe("A JWT (`typ: txntoken+jwt`) naming the task; useless once the task closes (docs/oauth.md)");

export const openedTaskResponse = taskResponse
  .extend({ task_token: taskToken })
  .describe("The task object, with the task token of `POST /v1/tasks`.");

export const taskTokenResponse = z
  .object({ task_id: z.string(), task_token: taskToken, expires_at: time })
  .describe("A fresh task token.");

export const tokenResponse = z
  .object({
    access_token: z.string().describe("A signer credential of the task (RFC 9068 JWT, `typ: at+jwt`)"),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().min(0),
    scope: z.string().optional().describe("The granted scopes, when any"),
    issued_token_type: z.string().optional().describe("RFC 8693, token exchange only"),
  })
  .describe("RFC 6749 §5.1.");

export const oauthTokenErrorResponse = z
  .object({
    error: z.enum(OAUTH_ERROR_CODES),
    error_description: z.string(),
    auth_req_id: z.string().optional().describe("CIBA: the approval id to poll with"),
    expires_in: z.number().int().optional().describe("CIBA: seconds until the approval expires"),
    interval: z.number().int().optional().describe("CIBA: seconds to wait between polls"),
  })
  .describe("RFC 6749 §5.2, with CIBA's poll fields when a human must approve.");
