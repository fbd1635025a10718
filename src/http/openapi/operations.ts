import type { z } from "zod";
import type { BrokerErrorCode } from "../../shared/errors.js";
import { listQuery as approvalListQuery, decisionBody } from "../routes/approval-routes.js";
import { evidenceQuery } from "../routes/evidence-routes.js";
import {
  adminCredentialsQuery,
  adminRevocationsQuery,
  adminTasksQuery,
  auditQuery,
  auditVerifyQuery,
  closeTaskBody,
  credentialRequestBody,
  introspectBody,
  openTaskBody,
  resolveBody,
  revocationBody,
  sealBody,
  taskTokenBody,
  verificationBody,
} from "../schemas.js";
import { OAUTH_OPERATIONS } from "./oauth-operations.js";
import { SIGNALS_OPERATIONS } from "./signals-operations.js";

/**
 * Every route the api role serves, as the OpenAPI document describes it: request schemas are the very
 * ones the routes validate with; response schemas are named components (`openapi-document.ts`).
 * `test/integration/openapi.test.ts` fails when the app serves a route this table does not list.
 */

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

const task = { component: "Task", description: "The task object" };
const credential = { component: "Credential", description: "The credential (never its secret)" };
const approval = { component: "Approval", description: "The approval" };
const revocation = { component: "RevocationStatus", description: "The emergency revocation" };

export const OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/v1/tasks",
    operationId: "openTask",
    tag: "tasks",
    summary: "Open a task (or, with parent_task_id, a child task)",
    description:
      "A child task may only be opened by the parent's agent; its deadline is at most the parent's, its " +
      "profiles a subset of the parent's, its depth the parent's + 1.",
    auth: "workload",
    policyAction: "OpenTask (DelegateTask for a child task)",
    body: { schema: openTaskBody, component: "OpenTaskRequest" },
    responses: { 201: { component: "OpenedTask", description: "The task object and its task token" } },
    errors: [
      "invalid_request",
      "policy_denied",
      "not_found",
      "task_not_open",
      "unknown_profile",
      "ttl_out_of_range",
      "scope_not_allowed",
      "quota_exceeded",
    ],
  },
  {
    method: "get",
    path: "/v1/tasks/{task_id}",
    operationId: "getTask",
    tag: "tasks",
    summary: "Read a task",
    description: "Visible to its owner, its agent and its ancestors' owners and agents; others get 404.",
    auth: "workload",
    policyAction: "ReadTask",
    responses: { 200: task },
    errors: ["policy_denied", "not_found"],
  },
  {
    method: "post",
    path: "/v1/tasks/{task_id}/task-token",
    operationId: "refreshTaskToken",
    tag: "tasks",
    summary: "A fresh task token for an open task (docs/oauth.md)",
    description: "Only the task's own owner or agent; the task must be open.",
    auth: "workload",
    policyAction: "ReadTask",
    body: { schema: taskTokenBody, component: "TaskTokenRequest", optional: true },
    responses: { 201: { component: "TaskToken", description: "The task token" } },
    errors: ["invalid_request", "policy_denied", "not_found", "task_not_open"],
  },
  {
    method: "post",
    path: "/v1/tasks/{task_id}/close",
    operationId: "closeTask",
    tag: "tasks",
    summary: "Close a task and its descendants, revoking every credential",
    description: "Idempotent: closing a closed task returns it unchanged.",
    auth: "workload",
    policyAction: "CloseTask",
    body: { schema: closeTaskBody, component: "CloseTaskRequest", optional: true },
    responses: { 202: task },
    errors: ["invalid_request", "policy_denied", "not_found"],
  },
  {
    method: "post",
    path: "/v1/tasks/{task_id}/credentials",
    operationId: "requestCredential",
    tag: "credentials",
    summary: "Request a credential (the task's agent only)",
    description:
      "The granted TTL is the minimum of the request, the profile's max_ttl, the policy's @max_ttl, the " +
      "task's remaining lifetime and the provider's limit. 202 when the policy asks for an approval.",
    auth: "workload",
    policyAction: "RequestCredential",
    body: { schema: credentialRequestBody, component: "CredentialRequest" },
    responses: {
      201: { component: "IssuedCredential", description: "Issued; the secret is returned once" },
      202: { component: "ApprovalRequired", description: "Held for approval" },
    },
    errors: [
      "invalid_request",
      "policy_denied",
      "not_found",
      "task_not_open",
      "unknown_profile",
      "ttl_out_of_range",
      "scope_not_allowed",
      "quota_exceeded",
      "provider_error",
    ],
  },
  {
    method: "get",
    path: "/v1/tasks/{task_id}/evidence",
    operationId: "getEvidence",
    tag: "audit",
    summary: "The task's evidence report (JSON, or one self-contained HTML page)",
    description:
      "Readable by the task's relations under ReadTask and by anyone under ReadAudit. With `at`, " +
      "`valid_at.credentials` lists the credentials valid at that instant.",
    auth: "workload",
    policyAction: "ReadTask or ReadAudit",
    query: evidenceQuery,
    responses: {
      200: {
        component: "EvidenceReport",
        description: "The report (`Accept: text/html` for the page)",
        alsoHtml: true,
      },
    },
    errors: ["invalid_request", "policy_denied", "not_found"],
  },
  {
    method: "get",
    path: "/v1/approvals",
    operationId: "listApprovals",
    tag: "approvals",
    summary: "Pending approvals the caller may decide",
    auth: "workload",
    policyAction: "Approve",
    query: approvalListQuery,
    responses: { 200: { component: "ApprovalList", description: "One page" } },
    errors: ["invalid_request"],
  },
  {
    method: "get",
    path: "/v1/approvals/{approval_id}",
    operationId: "getApproval",
    tag: "approvals",
    summary: "Read an approval; the requester's first read after approval carries the credential",
    auth: "workload",
    policyAction: "Approve (anyone but the requester); RequestCredential at redemption",
    responses: { 200: approval },
    errors: ["not_found", "approval_not_pending", "task_not_open", "provider_error"],
  },
  {
    method: "post",
    path: "/v1/approvals/{approval_id}/approve",
    operationId: "approve",
    tag: "approvals",
    summary: "Approve a pending request (never the requester's own)",
    auth: "workload",
    policyAction: "Approve",
    body: { schema: decisionBody, component: "ApprovalDecision", optional: true },
    responses: { 200: approval },
    errors: ["invalid_request", "policy_denied", "not_found", "approval_not_pending", "task_not_open"],
  },
  {
    method: "post",
    path: "/v1/approvals/{approval_id}/deny",
    operationId: "deny",
    tag: "approvals",
    summary: "Deny a pending request",
    auth: "workload",
    policyAction: "Approve",
    body: { schema: decisionBody, component: "ApprovalDecision", optional: true },
    responses: { 200: approval },
    errors: ["invalid_request", "policy_denied", "not_found", "approval_not_pending", "task_not_open"],
  },
  {
    method: "post",
    path: "/v1/introspect",
    operationId: "introspect",
    tag: "introspection",
    summary: "RFC 7662 introspection of signer tokens",
    description:
      "`{active: false}` for revoked, expired, unknown tokens and for callers the policy does not allow. " +
      "Resource servers may authenticate with client_secret_basic or private_key_jwt (the " +
      "client_assertion fields); a failed client authentication is 401 in the RFC 6749 shape.",
    auth: "client",
    policyAction: "Introspect",
    body: { schema: introspectBody, component: "IntrospectionRequest", form: true },
    responses: { 200: { component: "Introspection", description: "The token's state and claims" } },
    errors: ["invalid_request", "invalid_client"],
  },
  {
    method: "post",
    path: "/v1/admin/revocations",
    operationId: "startRevocation",
    tag: "admin",
    summary: "Emergency revocation by task, agent, initiator, profile, provider or everything",
    description: "Matching tasks are closed with close_reason `revoked`; `dry_run` only counts.",
    auth: "workload",
    policyAction: "EmergencyRevoke",
    body: { schema: revocationBody, component: "RevocationRequest" },
    responses: { 202: revocation },
    errors: ["invalid_request", "policy_denied"],
  },
  {
    method: "get",
    path: "/v1/admin/revocations",
    operationId: "listRevocations",
    tag: "admin",
    summary: "Emergency revocations, newest first, as recorded at their start",
    auth: "workload",
    policyAction: "EmergencyRevoke",
    query: adminRevocationsQuery,
    responses: { 200: { component: "RevocationList", description: "One page" } },
    errors: ["invalid_request", "policy_denied"],
  },
  {
    method: "get",
    path: "/v1/whoami",
    operationId: "whoAmI",
    tag: "admin",
    summary: "The caller's principal and a dry run of what the policy allows it (nothing is recorded)",
    auth: "workload",
    responses: { 200: { component: "WhoAmI", description: "The caller" } },
    errors: [],
  },
  {
    method: "get",
    path: "/v1/admin/revocations/{revocation_id}",
    operationId: "getRevocation",
    tag: "admin",
    summary: "Progress of an emergency revocation",
    auth: "workload",
    policyAction: "EmergencyRevoke",
    responses: { 200: revocation },
    errors: ["policy_denied", "not_found"],
  },
  {
    method: "get",
    path: "/v1/admin/tasks",
    operationId: "listTasks",
    tag: "admin",
    summary: "Every task, paged",
    auth: "workload",
    policyAction: "ReadAudit",
    query: adminTasksQuery,
    responses: { 200: { component: "TaskList", description: "One page" } },
    errors: ["invalid_request", "policy_denied"],
  },
  {
    method: "get",
    path: "/v1/admin/credentials",
    operationId: "listCredentials",
    tag: "admin",
    summary: "Every credential, paged (e.g. state=revoke_failed)",
    auth: "workload",
    policyAction: "ReadAudit",
    query: adminCredentialsQuery,
    responses: { 200: { component: "CredentialList", description: "One page" } },
    errors: ["invalid_request", "policy_denied"],
  },
  {
    method: "post",
    path: "/v1/admin/credentials/{credential_id}/retry",
    operationId: "retryRevocation",
    tag: "admin",
    summary: "Retry a failed revocation now",
    description: "400 unless the credential is revoke_failed; one already revoking is returned unchanged.",
    auth: "workload",
    policyAction: "EmergencyRevoke",
    responses: { 202: credential },
    errors: ["invalid_request", "policy_denied", "not_found"],
  },
  {
    method: "post",
    path: "/v1/admin/credentials/{credential_id}/resolve",
    operationId: "resolveCredential",
    tag: "admin",
    summary: "Settle a revoke_failed credential by hand, with a reason",
    auth: "workload",
    policyAction: "EmergencyRevoke",
    body: { schema: resolveBody, component: "ResolveRequest" },
    responses: { 200: credential },
    errors: ["invalid_request", "policy_denied", "not_found"],
  },
  {
    method: "post",
    path: "/v1/admin/keys/rotate",
    operationId: "rotateKeys",
    tag: "admin",
    summary: "Rotate the signer's key (the previous key stays published)",
    auth: "workload",
    policyAction: "RotateKeys",
    responses: { 200: { component: "KeyRotation", description: "The new and previous key ids" } },
    errors: ["policy_denied"],
  },
  {
    method: "get",
    path: "/v1/audit",
    operationId: "listAuditEvents",
    tag: "audit",
    summary: "Audit events, in chain order, paged",
    description: "A cursor must be a next_cursor of the same listing (with or without task_id).",
    auth: "workload",
    policyAction: "ReadAudit",
    query: auditQuery,
    responses: { 200: { component: "AuditPage", description: "One page" } },
    errors: ["invalid_request", "policy_denied"],
  },
  {
    method: "get",
    path: "/v1/audit/verify",
    operationId: "verifyAudit",
    tag: "audit",
    summary: "Check the hash chain and its signed checkpoints",
    auth: "workload",
    policyAction: "ReadAudit",
    query: auditVerifyQuery,
    description:
      "Walks the whole chain while it is at most `audit.verify_full_up_to_events` long; past that (or with " +
      "`scope=since_checkpoint`) only from the newest signed checkpoint to the head. `scope` says which.",
    responses: { 200: { component: "AuditVerification", description: "Valid, or the first invalid event" } },
    errors: ["invalid_request", "policy_denied"],
  },
  {
    method: "post",
    path: "/v1/audit/verifications",
    operationId: "startAuditVerification",
    tag: "audit",
    summary: "Start a full walk of the chain as a job on the worker role",
    auth: "workload",
    policyAction: "ReadAudit",
    body: { schema: verificationBody, component: "VerificationRequest", optional: true },
    responses: { 202: { component: "AuditVerificationRun", description: "Queued" } },
    errors: ["invalid_request", "policy_denied"],
  },
  {
    method: "get",
    path: "/v1/audit/verifications/{verification_id}",
    operationId: "getAuditVerification",
    tag: "audit",
    summary: "Progress and result of a full walk of the chain",
    auth: "workload",
    policyAction: "ReadAudit",
    responses: {
      200: { component: "AuditVerificationRun", description: "Running, or completed with its result" },
    },
    errors: ["policy_denied", "not_found"],
  },
  {
    method: "get",
    path: "/v1/audit/checkpoints",
    operationId: "listCheckpoints",
    tag: "audit",
    summary: "The anchor and every signed checkpoint, for export and offline checks",
    auth: "workload",
    policyAction: "ReadAudit",
    responses: { 200: { component: "Checkpoints", description: "The anchor and checkpoints" } },
    errors: ["policy_denied"],
  },
  {
    method: "post",
    path: "/v1/audit/checkpoints",
    operationId: "sealNow",
    tag: "audit",
    summary: "Sign a checkpoint of the chain now (the sealer's lock is shared, so it may wait for a pass)",
    auth: "workload",
    policyAction: "RotateKeys",
    body: { schema: sealBody, component: "SealRequest", optional: true },
    description:
      "The request's own RotateKeys decision is appended first, so a new checkpoint is always signed " +
      "(`created: true`); it covers every event up to and including that decision.",
    responses: { 201: { component: "Seal", description: "A checkpoint was signed now" } },
    errors: ["invalid_request", "policy_denied", "unavailable"],
  },
  {
    method: "get",
    path: "/healthz",
    operationId: "health",
    tag: "public",
    summary: "The process is up",
    auth: "public",
    responses: { 200: { component: "Health", description: "Up" } },
    errors: [],
  },
  {
    method: "get",
    path: "/readyz",
    operationId: "readiness",
    tag: "public",
    summary: "Redis and the queue are reachable and the policies loaded; each check named",
    auth: "public",
    responses: {
      200: { component: "Readiness", description: "Ready" },
      503: { component: "Readiness", description: "Not ready; `reason` and `checks` say why" },
    },
    errors: [],
  },
  {
    method: "get",
    path: "/metrics",
    operationId: "metrics",
    tag: "public",
    summary: "Prometheus metrics",
    auth: "public",
    responses: { 200: { mediaType: "text/plain", description: "Prometheus text exposition" } },
    errors: [],
  },
  {
    method: "get",
    path: "/.well-known/jwks.json",
    operationId: "jwks",
    tag: "public",
    summary: "Public keys of the built-in signer (current and previous)",
    auth: "public",
    responses: { 200: { component: "Jwks", description: "A JWK set" } },
    errors: [],
  },
  {
    method: "get",
    path: "/openapi.json",
    operationId: "openApiDocument",
    tag: "public",
    summary: "This document",
    auth: "public",
    responses: { 200: { component: "OpenApiDocument", description: "OpenAPI 3.1" } },
    errors: [],
  },
  ...OAUTH_OPERATIONS,
  ...SIGNALS_OPERATIONS,
];
