import { z } from "zod";
import { type BrokerErrorCode, errorStatus } from "../../shared/errors.js";
import * as oauthSchemas from "./oauth-response-schemas.js";
import { OPERATIONS, type Operation, type ResponseBody } from "./operations.js";
import * as schemas from "./response-schemas.js";
import { SIGNALS_RESPONSE_COMPONENTS } from "./signals-operations.js";

/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route table (`operations.ts`), the zod schemas
 * the routes validate with (requests, `io: "input"`) and the response schemas (`io: "output"`). Served
 * at `GET /openapi.json`; docs/api.md is its reading guide and the design's API.md stays the contract.
 */

type JsonSchema = Record<string, unknown>;

/** The document's shape, as far as its builder and tests read it. */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  jsonSchemaDialect: string;
  servers?: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, OperationObject>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, JsonSchema>;
  };
}

export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: JsonSchema[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  security?: Record<string, string[]>[];
  [extension: `x-${string}`]: unknown;
}

/** Response components by name: the names `operations.ts` refers to. */
export const RESPONSE_COMPONENTS: Record<string, z.ZodType> = {
  Timestamp: schemas.time,
  Task: schemas.taskResponse,
  Credential: schemas.credentialResponse,
  IssuedCredential: schemas.issuedCredentialResponse,
  ApprovalRequired: schemas.approvalRequiredResponse,
  Approval: schemas.approvalResponse,
  TaskList: schemas.taskListResponse,
  RevocationList: schemas.revocationListResponse,
  WhoAmI: schemas.whoamiResponse,
  Seal: schemas.sealResponse,
  CredentialList: schemas.credentialListResponse,
  ApprovalList: schemas.approvalListResponse,
  RevocationStatus: schemas.revocationStatusResponse,
  KeyRotation: schemas.keyRotationResponse,
  AuditEvent: schemas.auditEventResponse,
  AuditPage: schemas.auditPageResponse,
  AuditVerification: schemas.auditVerifyResponse,
  AuditVerificationRun: schemas.auditVerificationRunResponse,
  PublicJwk: schemas.publicJwk,
  Jwks: schemas.jwksResponse,
  Checkpoint: schemas.checkpointResponse,
  Checkpoints: schemas.checkpointsResponse,
  EvidenceReport: schemas.evidenceReportResponse,
  Introspection: schemas.introspectionResponse,
  Health: schemas.healthResponse,
  Readiness: schemas.readinessResponse,
  Error: schemas.errorResponse,
  OAuthError: schemas.oauthErrorResponse,
  AuthorizationServerMetadata: oauthSchemas.authorizationServerMetadataResponse,
  OpenedTask: oauthSchemas.openedTaskResponse,
  TokenResponse: oauthSchemas.tokenResponse,
  OAuthTokenError: oauthSchemas.oauthTokenErrorResponse,
  TaskToken: oauthSchemas.taskTokenResponse,
  OpenApiDocument: z.record(z.string(), z.unknown()),
  ...SIGNALS_RESPONSE_COMPONENTS,
};

const ref = (component: string): JsonSchema => ({ $ref: `#/components/schemas/${component}` });
const uri = (id: string) => `#/components/schemas/${id}`;

/**
 * Converts named zod schemas to JSON Schema 2020-12 components, nested named schemas as `$ref`s. The
 * `$schema` key is dropped: the document's `jsonSchemaDialect` says it once.
 */
export function componentSchemas(
  named: Record<string, z.ZodType>,
  io: "input" | "output",
): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) {
    if (!registry.has(schema)) registry.add(schema, { id });
  }
  const { schemas: converted } = z.toJSONSchema(registry, { target: "draft-2020-12", io, uri });
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(converted)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
    out[id] = rest;
  }
  return out;
}

/** Request components by name, from the operations' body schemas. */
export function requestComponents(operations: readonly Operation[] = OPERATIONS): Record<string, z.ZodType> {
  return Object.fromEntries(
    operations.flatMap((op) => (op.body ? [[op.body.component, op.body.schema]] : [])),
  );
}

/** Query parameters, one per property of the route's own query schema. */
function queryParameters(query: z.ZodObject): JsonSchema[] {
  const schema = z.toJSONSchema(query, { target: "draft-2020-12", io: "input" }) as JsonSchema;
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: "query",
    required: required.has(name),
    schema: property,
  }));
}

const pathParameters = (path: string): JsonSchema[] =>
  [...path.matchAll(/\{([a-z_]+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }));

/** Codes any route behind authentication can answer, whatever it does. */
const AUTHENTICATED_ERRORS: BrokerErrorCode[] = [
  "invalid_assertion",
  "rate_limited",
  "internal_error",
  "unavailable",
];
/** Codes of any route that takes a body (Content-Type, encoding, size). */
const BODY_ERRORS: BrokerErrorCode[] = ["invalid_request", "payload_too_large"];

/** The error codes an operation can answer, each once. */
export function operationErrors(op: Operation): BrokerErrorCode[] {
  if (op.auth === "public" || op.oauthErrorStatuses) return [];
  const codes = new Set<BrokerErrorCode>([...op.errors, ...AUTHENTICATED_ERRORS]);
  if (op.method === "post" || op.method === "patch") for (const code of BODY_ERRORS) codes.add(code);
  return [...codes];
}

function successResponse(body: ResponseBody) {
  if ("empty" in body) return { description: body.description };
  if ("mediaType" in body) {
    return { description: body.description, content: { [body.mediaType]: { schema: { type: "string" } } } };
  }
  const content: Record<string, { schema: JsonSchema }> = {
    "application/json": { schema: ref(body.component) },
  };
  if (body.alsoHtml) content["text/html"] = { schema: { type: "string" } };
  return { description: body.description, content };
}

function errorResponses(op: Operation): OperationObject["responses"] {
  const byStatus = new Map<number, BrokerErrorCode[]>();
  for (const code of operationErrors(op)) {
    const status = errorStatus(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: OperationObject["responses"] = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const oauth = codes.includes("invalid_client");
    const schema = oauth ? { anyOf: [ref("Error"), ref("OAuthError")] } : ref("Error");
    responses[String(status)] = {
      description: `error.code: ${codes.map((code) => `\`${code}\``).join(", ")}`,
      content: { "application/json": { schema } },
    };
  }
  return responses;
}

const SECURITY: Record<Operation["auth"], Record<string, string[]>[] | undefined> = {
  public: [],
  workload: [{ workloadAssertion: [] }],
  client: [{ workloadAssertion: [] }, { clientSecretBasic: [] }],
};

function operationObject(op: Operation): OperationObject {
  const parameters = [...pathParameters(op.path), ...(op.query ? queryParameters(op.query) : [])];
  const responses: OperationObject["responses"] = {};
  for (const [status, body] of Object.entries(op.responses)) {
    if (body) responses[status] = successResponse(body);
  }
  Object.assign(responses, errorResponses(op));
  for (const status of op.oauthErrorStatuses ?? []) {
    responses[String(status)] = {
      description: "RFC 6749 §5.2: `error` is one of the OAuth codes (docs/oauth.md)",
      content: { "application/json": { schema: ref("OAuthTokenError") } },
    };
  }
  const object: OperationObject = {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.tag],
    responses,
    security: SECURITY[op.auth],
  };
  if (op.description) object.description = op.description;
  if (parameters.length > 0) object.parameters = parameters;
  if (op.body) {
    const content: Record<string, { schema: JsonSchema }> = op.body.formOnly
      ? {}
      : { "application/json": { schema: ref(op.body.component) } };
    if (op.body.form || op.body.formOnly)
      content["application/x-www-form-urlencoded"] = { schema: ref(op.body.component) };
    object.requestBody = { required: !op.body.optional, content };
  }
  if (op.policyAction) object["x-policy-action"] = op.policyAction;
  return object;
}

const DESCRIPTION =
  "Ephemeral, task-scoped credentials for AI agents. Generated from the zod schemas the routes validate " +
  "with; the design's API.md remains the binding contract (fields may be added, none renamed or removed). " +
  "Every response carries X-Request-Id. Errors are `{error: {code, message, details?}}`.";

const TAGS = [
  { name: "tasks", description: "Open, read and close tasks" },
  { name: "credentials", description: "Request credentials under a task" },
  { name: "approvals", description: "Credential requests that wait for a human" },
  { name: "introspection", description: "RFC 7662, for resource servers" },
  { name: "signals", description: "Shared Signals (SSF 1.0) streams, for resource servers" },
  { name: "admin", description: "Operators' cross-task powers" },
  { name: "audit", description: "The audit chain and evidence reports" },
  { name: "public", description: "Unauthenticated: health, metrics, keys, this document" },
  { name: "oauth", description: "The OAuth side: token endpoint, revocation (docs/oauth.md)" },
];

/** Builds the document once (the api role serves the same object for its lifetime). */
export function buildOpenApiDocument(options: { publicUrl?: string } = {}): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const op of OPERATIONS) {
    paths[op.path] ??= {};
    paths[op.path]![op.method] = operationObject(op);
  }
  return {
    openapi: "3.1.0",
    info: { title: "credbroker", version: "v1", description: DESCRIPTION },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    ...(options.publicUrl ? { servers: [{ url: options.publicUrl }] } : {}),
    tags: TAGS,
    paths,
    components: {
      schemas: {
        ...componentSchemas(requestComponents(), "input"),
        ...componentSchemas(RESPONSE_COMPONENTS, "output"),
      },
      securitySchemes: {
        workloadAssertion: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A workload assertion (Kubernetes service-account token, GitHub Actions OIDC token, SPIFFE " +
            "JWT-SVID or any configured OIDC issuer) whose aud contains the broker's audience.",
        },
        clientSecretBasic: {
          type: "http",
          scheme: "basic",
          description:
            "A resource server of `resource_servers` (client_secret_basic). Resource servers may instead " +
            "send client_assertion_type and client_assertion (private_key_jwt) in the body.",
        },
      },
    },
  };
}
