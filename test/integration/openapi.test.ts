import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  buildOpenApiDocument,
  type OpenApiDocument,
  operationErrors,
  RESPONSE_COMPONENTS,
} from "../../src/http/openapi/openapi-document.js";
import { OPERATIONS } from "../../src/http/openapi/operations.js";
import { type BrokerErrorCode, errorStatus } from "../../src/shared/errors.js";
import { type ApiResponse, type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { type Faults, newFaults, withFaults } from "../support/faulty-provider.js";
import { type Schema, validate } from "../support/json-schema.js";
import { TEST_POLICY_WITH_APPROVALS } from "../support/test-policy.js";

/**
 * The OpenAPI document (GET /openapi.json) against the running broker: it documents exactly the routes the
 * Express app serves, it is structurally OpenAPI 3.1, and the real responses of a whole journey validate
 * against the document's own response schemas (with the repository's JSON Schema validator) and against
 * the zod schemas they were generated from.
 */

const POLICY = TEST_POLICY_WITH_APPROVALS;

const RS_SECRET = "openapi-rs-secret-0123456789abcdef";
const PUBLIC_URL = "http://127.0.0.1:1";

let h: Harness;
let doc: OpenApiDocument;
let agent: string;
let operator: string;
let approver: string;
const faults: Faults = newFaults();
/** `METHOD template status` of every response the journey validated. */
const seen = new Set<string>();

/** An IdP transmitter's keys, served on loopback, so a SET can be accepted at POST /ssf/events. */
let idp: Server;
let idpUrl: string;
let idpKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

beforeAll(async () => {
  const pair = await generateKeyPair("ES256");
  idpKey = pair.privateKey;
  const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "idp", alg: "ES256" }] };
  idp = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks)),
  );
  await new Promise<void>((done) => idp.listen(0, "127.0.0.1", done));
  idpUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  h = await startHarness({
    name: "openapi",
    policy: POLICY,
    decorateProviders: withFaults(faults),
    config: {
      revocation: { attempts: 1, backoff_ms: 50, reconcile_interval_seconds: 60 },
      resource_servers: [
        { client_id: "tickets-rs", secret_env: "OPENAPI_RS_SECRET", audiences: ["https://tickets.internal"] },
      ],
      signals: {
        receivers: [{ name: "idp", issuer: idpUrl, jwks_uri: `${idpUrl}/jwks`, audience: "broker" }],
      },
    },
    env: { OPENAPI_RS_SECRET: RS_SECRET },
  });
  doc = (await h.call("GET", "/openapi.json")).body;
  [agent, operator, approver] = await Promise.all([
    h.token("summariser"),
    h.token("operator"),
    h.token("approver-alice"),
  ]);
});
afterAll(async () => {
  await h?.close();
  await new Promise((done) => idp?.close(done));
});

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** Every `METHOD path` the app serves, found by walking its router stack (`:taskId` → `{task_id}`). */
function servedRoutes(app: Express): string[] {
  const routes: string[] = [];
  const join = (...parts: string[]) => `/${parts.join("/")}`.replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
  const template = (path: string) =>
    path.replace(
      /:([A-Za-z]+)/g,
      (_, name: string) => `{${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}}`,
    );
  const walk = (stack: readonly RouterLayer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) {
          routes.push(`${method.toUpperCase()} ${template(join(prefix, layer.route.path))}`);
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        if (typeof layer.rawPath !== "string")
          throw new Error(`a mounted router without a path: ${layer.name}`);
        walk(layer.handle.stack, join(prefix, layer.rawPath));
      }
    }
  };
  walk((app as unknown as { router: { stack: RouterLayer[] } }).router.stack, "");
  return routes.sort();
}

/** What the route walk reads of an Express 5 router layer (the router's internals are not in its typings). */
interface RouterLayer {
  name?: string;
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

const documentedRoutes = (document: OpenApiDocument) =>
  Object.entries(document.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();

/** Every `$ref` in the document, each resolved from the root. */
function refs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refs(item, found);
  else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") found.push(value);
      else refs(value, found);
    }
  }
  return found;
}

const resolve = (pointer: string): unknown =>
  pointer
    .replace(/^#\//, "")
    .split("/")
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);

/**
 * Calls the broker on `template` (placeholders filled from `params`) and checks the response against the
 * document: the status is documented for that operation, the body validates against the documented
 * schema, its zod schema parses it, and an error's code is one the operation documents at that status.
 */
async function call(
  method: "GET" | "POST" | "PATCH" | "DELETE",
  template: string,
  options: {
    params?: Record<string, string>;
    query?: string;
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResponse> {
  const path = template.replace(/\{([a-z_]+)\}/g, (_, name: string) =>
    encodeURIComponent(options.params?.[name] ?? ""),
  );
  const res = await h.call(method, `${path}${options.query ? `?${options.query}` : ""}`, options);
  expectDocumented(method, template, res);
  return res;
}

function expectDocumented(method: string, template: string, res: ApiResponse): void {
  const where = `${method} ${template} ${res.status}`;
  const operation = doc.paths[template]?.[method.toLowerCase()];
  expect(operation, `${method} ${template} is documented`).toBeDefined();
  const response = operation?.responses[String(res.status)];
  expect(response, `${where} is a documented status (body: ${res.text.slice(0, 300)})`).toBeDefined();
  if (response && response.content === undefined && res.text === "") {
    seen.add(where);
    return;
  }
  const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const content = response?.content?.[mediaType];
  expect(content, `${where} documents ${mediaType}`).toBeDefined();
  seen.add(where);
  if (mediaType !== "application/json" || !content) return;
  expect(validate(content.schema as Schema, res.body, doc as unknown as Schema), where).toEqual([]);
  const components = [content.schema, ...((content.schema.anyOf as object[] | undefined) ?? [])]
    .map((schema) => (schema as { $ref?: string }).$ref?.replace("#/components/schemas/", ""))
    .flatMap((name) => (name ? [RESPONSE_COMPONENTS[name] as z.ZodType] : []));
  expect(
    components.some((schema) => schema.safeParse(res.body).success),
    `${where} parses with zod`,
  ).toBe(true);
  if (res.status >= 400 && typeof res.body?.error === "object") {
    const op = OPERATIONS.find((o) => o.path === template && o.method === method.toLowerCase());
    const code = res.body.error.code as BrokerErrorCode;
    expect(operationErrors(op!), `${where} documents ${code}`).toContain(code);
    expect(errorStatus(code)).toBe(res.status);
  }
}

describe("the OpenAPI document", () => {
  it("is served unauthenticated at /openapi.json, exactly as built from the schemas", async () => {
    const res = await h.call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument({ publicUrl: PUBLIC_URL }))));
  });

  it("documents every route the app serves, and no route it does not", () => {
    expect(h.broker.app).not.toBeNull();
    const served = servedRoutes(h.broker.app!);
    expect(served).toContain("GET /v1/tasks/{task_id}/evidence");
    expect(served).toContain("POST /v1/introspect");
    expect(documentedRoutes(doc)).toEqual(served);
  });

  it("is structurally OpenAPI 3.1: info, paths, components, resolvable refs, declared parameters and schemes", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "credbroker", version: expect.any(String) });
    expect(doc.jsonSchemaDialect).toBe("https://json-schema.org/draft/2020-12/schema");
    for (const pointer of refs(doc)) expect(resolve(pointer), pointer).toBeDefined();
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path).toMatch(/^\//);
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(METHODS, where).toContain(method);
        expect(ids.has(operation.operationId), `${where}: operationId unique`).toBe(false);
        ids.add(operation.operationId);
        const declared = (operation.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
        expect(declared, where).toEqual([...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]));
        const statuses = Object.keys(operation.responses);
        expect(
          statuses.some((s) => /^2\d\d$/.test(s)),
          `${where}: a success response`,
        ).toBe(true);
        for (const status of statuses) expect(status, where).toMatch(/^[1-5]\d\d$/);
        for (const requirement of operation.security ?? []) {
          for (const scheme of Object.keys(requirement))
            expect(doc.components.securitySchemes).toHaveProperty(scheme);
        }
        for (const code of Object.values(operation.responses).flatMap((r) => Object.keys(r.content ?? {}))) {
          expect(code, where).toMatch(/^(application\/json|application\/x-www-form-urlencoded|text\/\w+)$/);
        }
      }
    }
    for (const schema of Object.values(doc.components.schemas)) expect(schema).not.toHaveProperty("$schema");
  });
});

describe("real responses validate against the document", () => {
  it("a whole journey: public routes, a task tree, credentials, introspection, approval, close, evidence", async () => {
    const publicPaths = ["/healthz", "/readyz", "/.well-known/jwks.json", "/metrics", "/openapi.json"];
    const metadataPaths = ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"];
    for (const path of [...publicPaths, ...metadataPaths]) {
      expect((await call("GET", path)).status).toBe(200);
    }
    const opened = await call("POST", "/v1/tasks", {
      token: agent,
      body: {
        intent: "summarise incidents",
        ttl_seconds: 600,
        initiator: { subject: "alice@example.com" },
        profiles: ["tickets-api"],
        labels: { ticket: "INC-42" },
      },
    });
    expect(opened.status).toBe(201);
    const task_id = opened.body.task_id;
    const child = await call("POST", "/v1/tasks", {
      token: agent,
      body: { intent: "a sub-agent", ttl_seconds: 300, parent_task_id: task_id },
    });
    expect(child.status).toBe(201);
    const refreshed = await call("POST", "/v1/tasks/{task_id}/task-token", {
      params: { task_id },
      token: agent,
    });
    expect(refreshed.status).toBe(201);
    const taskToken = await call("POST", "/v1/introspect", {
      token: agent,
      body: { token: refreshed.body.task_token },
    });
    expect(taskToken.body).toMatchObject({ active: true, token_type: "N_A", txn: task_id });
    const oauthForm = { "content-type": "application/x-www-form-urlencoded" };
    const grant = (fields: Record<string, string>) =>
      call("POST", "/oauth/token", { body: new URLSearchParams(fields).toString(), headers: oauthForm });
    const granted = await grant({
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion: refreshed.body.task_token,
      resource: "https://tickets.internal",
      scope: "tickets:read",
    });
    expect(granted.body).toMatchObject({ token_type: "Bearer", scope: "tickets:read" });
    expect((await grant({ grant_type: "password" })).body.error).toBe("unsupported_grant_type");

    const issued = await call("POST", "/v1/tasks/{task_id}/credentials", {
      params: { task_id },
      token: agent,
      body: { profile: "tickets-api", scopes: ["tickets:read"], ttl_seconds: 300, reason: "list incidents" },
    });
    expect(issued.status).toBe(201);
    const token = issued.body.secret.token;
    expect((await call("POST", "/v1/introspect", { token: agent, body: { token } })).body.active).toBe(true);
    const basic = `Basic ${Buffer.from(`tickets-rs:${RS_SECRET}`).toString("base64")}`;
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const viaForm = await call("POST", "/v1/introspect", {
      body: new URLSearchParams({ token }).toString(),
      headers: { ...form, authorization: basic },
    });
    expect(viaForm.body).toMatchObject({ active: true, task_id });
    const badClient = await call("POST", "/v1/introspect", {
      body: new URLSearchParams({ token }).toString(),
      headers: { ...form, authorization: `Basic ${Buffer.from("tickets-rs:wrong").toString("base64")}` },
    });
    expect(badClient.status).toBe(401);
    const revoked = await call("POST", "/oauth/revoke", {
      body: new URLSearchParams({ token: granted.body.access_token }).toString(),
      headers: { ...form, authorization: basic },
    });
    expect(revoked.status).toBe(200);

    const held = await call("POST", "/v1/tasks/{task_id}/credentials", {
      params: { task_id },
      token: agent,
      body: { profile: "tickets-api", scopes: ["tickets:write"], reason: "close duplicates" },
    });
    expect(held.status).toBe(202);
    const approval_id = held.body.approval_id;
    const listed = await call("GET", "/v1/approvals", { token: approver, query: "state=pending&limit=10" });
    expect(listed.body.approvals.map((a: { approval_id: string }) => a.approval_id)).toContain(approval_id);
    expect(
      (await call("GET", "/v1/approvals/{approval_id}", { params: { approval_id }, token: agent })).status,
    ).toBe(200);
    const approved = await call("POST", "/v1/approvals/{approval_id}/approve", {
      params: { approval_id },
      token: approver,
      body: { comment: "duplicate tickets" },
    });
    expect(approved.body.state).toBe("approved");
    const redeemed = await call("GET", "/v1/approvals/{approval_id}", {
      params: { approval_id },
      token: agent,
    });
    expect(redeemed.body.credential.secret.token).toEqual(expect.any(String));
    const second = await call("POST", "/v1/tasks/{task_id}/credentials", {
      params: { task_id },
      token: agent,
      body: { profile: "tickets-api", scopes: ["tickets:write"], reason: "bulk edit" },
    });
    const denied = await call("POST", "/v1/approvals/{approval_id}/deny", {
      params: { approval_id: second.body.approval_id },
      token: approver,
    });
    expect(denied.body.state).toBe("denied");
    const again = await call("POST", "/v1/approvals/{approval_id}/deny", {
      params: { approval_id },
      token: approver,
    });
    expect(again.status).toBe(409);

    expect(
      (await call("GET", "/v1/tasks/{task_id}", { params: { task_id }, token: agent })).body.credentials,
    ).toHaveLength(3);
    const closed = await call("POST", "/v1/tasks/{task_id}/close", {
      params: { task_id },
      token: agent,
      body: { reason: "done" },
    });
    expect(closed.status).toBe(202);
    await waitFor(
      async () => (await h.call("GET", `/v1/tasks/${task_id}`, { token: agent })).body.state === "closed",
      10_000,
      "the task closes",
    );
    const evidence = await call("GET", "/v1/tasks/{task_id}/evidence", {
      params: { task_id },
      token: agent,
      query: `at=${encodeURIComponent(issued.body.issued_at)}`,
    });
    // The token endpoint's credential and the first /v1 one were both valid then.
    expect(evidence.body.valid_at.credentials).toHaveLength(2);
    const html = await call("GET", "/v1/tasks/{task_id}/evidence", {
      params: { task_id },
      token: agent,
      headers: { accept: "text/html" },
    });
    expect(html.text).toMatch(/^<!DOCTYPE html>/i);
  });

  it("operators: listings, emergency revocation, a failed revocation retried and resolved, key rotation, audit", async () => {
    const opened = await call("POST", "/v1/tasks", {
      token: agent,
      body: { intent: "to fail", ttl_seconds: 600 },
    });
    const task_id = opened.body.task_id;
    const issued = await call("POST", "/v1/tasks/{task_id}/credentials", {
      params: { task_id },
      token: agent,
      body: { profile: "reports-api" },
    });
    const credential_id = issued.body.credential_id;
    faults.permanentRevokeFailure = true;
    await call("POST", "/v1/tasks/{task_id}/close", { params: { task_id }, token: agent });
    await waitFor(
      async () =>
        (await h.call("GET", `/v1/tasks/${task_id}`, { token: agent })).body.credentials[0].state ===
        "revoke_failed",
      10_000,
      "revoke_failed",
    );
    const failed = await call("GET", "/v1/admin/credentials", {
      token: operator,
      query: "state=revoke_failed&limit=50",
    });
    expect(failed.body.credentials.map((c: { credential_id: string }) => c.credential_id)).toContain(
      credential_id,
    );
    const retried = await call("POST", "/v1/admin/credentials/{credential_id}/retry", {
      params: { credential_id },
      token: operator,
    });
    expect(retried.status).toBe(202);
    await waitFor(
      async () =>
        (await h.call("GET", `/v1/tasks/${task_id}`, { token: agent })).body.credentials[0].state ===
        "revoke_failed",
      10_000,
      "revoke_failed again",
    );
    const resolved = await call("POST", "/v1/admin/credentials/{credential_id}/resolve", {
      params: { credential_id },
      token: operator,
      body: { reason: "revoked by hand in the upstream console" },
    });
    expect(resolved.body).toMatchObject({ state: "resolved", resolution: { by: "ci:operator" } });
    faults.permanentRevokeFailure = false;
    const notFailed = await call("POST", "/v1/admin/credentials/{credential_id}/retry", {
      params: { credential_id },
      token: operator,
    });
    expect(notFailed.status).toBe(400);

    expect(
      (await call("GET", "/v1/admin/tasks", { token: operator, query: "state=closed&limit=5" })).status,
    ).toBe(200);
    const started = await call("POST", "/v1/admin/revocations", {
      token: operator,
      body: { selector: { agent: "ci:nobody" }, reason: "drill", dry_run: true },
    });
    expect(started.status).toBe(202);
    const revocation_id = started.body.revocation_id;
    expect(
      (
        await call("GET", "/v1/admin/revocations/{revocation_id}", {
          params: { revocation_id },
          token: operator,
        })
      ).status,
    ).toBe(200);
    const listed = await call("GET", "/v1/admin/revocations", { token: operator, query: "limit=5" });
    expect(listed.body.revocations.map((r: { revocation_id: string }) => r.revocation_id)).toContain(
      revocation_id,
    );
    expect((await call("GET", "/v1/whoami", { token: operator })).body.principal.id).toBe("ci:operator");
    expect((await call("POST", "/v1/admin/keys/rotate", { token: operator })).body.kid).toEqual(
      expect.any(String),
    );

    const sealed = await call("POST", "/v1/audit/checkpoints", { token: operator });
    expect(sealed.status).toBe(201);
    const page = await call("GET", "/v1/audit", { token: operator, query: "limit=5" });
    expect(page.body.events).toHaveLength(5);
    await call("GET", "/v1/audit", { token: operator, query: `limit=5&cursor=${page.body.next_cursor}` });
    await call("GET", "/v1/audit", { token: operator, query: `task_id=${task_id}&limit=1000` });
    expect((await call("GET", "/v1/audit/verify", { token: operator })).body.valid).toBe(true);
    const since = await call("GET", "/v1/audit/verify", { token: operator, query: "scope=since_checkpoint" });
    expect(since.body).toMatchObject({ valid: true, scope: "since_checkpoint", checkpoints: 1 });
    expect((await call("GET", "/v1/audit/checkpoints", { token: operator })).status).toBe(200);
    const run = await call("POST", "/v1/audit/verifications", { token: operator });
    expect(run.status).toBe(202);
    const finished = await waitFor(
      async () => {
        const read = await call("GET", "/v1/audit/verifications/{verification_id}", {
          token: operator,
          params: { verification_id: run.body.verification_id },
        });
        return read.body.state === "completed" ? read.body : null;
      },
      10_000,
      "full verification",
    );
    expect(finished.result).toMatchObject({ valid: true });
  });

  it("errors: 400, 401, 403, 404, 422 and 502 in the documented shape", async () => {
    const invalid = await call("POST", "/v1/tasks", {
      token: agent,
      body: { intent: "", ttl_seconds: -1, extra: 1 },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details.issues.length).toBeGreaterThan(0);
    expect((await call("GET", "/v1/admin/tasks", { token: agent })).status).toBe(403);
    expect((await call("GET", "/v1/audit", { token: operator, query: "cursor=nonsense" })).status).toBe(400);
    expect(
      (await call("GET", "/v1/tasks/{task_id}", { params: { task_id: "tsk_unknown000000" }, token: agent }))
        .status,
    ).toBe(404);
    expect((await call("GET", "/v1/tasks/{task_id}", { params: { task_id: "tsk_x" } })).status).toBe(401);
    const task = await call("POST", "/v1/tasks", {
      token: agent,
      body: { intent: "errors", ttl_seconds: 600 },
    });
    const task_id = task.body.task_id;
    const unknown = await call("POST", "/v1/tasks/{task_id}/credentials", {
      params: { task_id },
      token: agent,
      body: { profile: "no-such-profile" },
    });
    expect(unknown.status).toBe(422);
    faults.refuseIssue = true;
    try {
      const refused = await call("POST", "/v1/tasks/{task_id}/credentials", {
        params: { task_id },
        token: agent,
        body: { profile: "tickets-api" },
      });
      expect(refused.status).toBe(502);
    } finally {
      faults.refuseIssue = false;
    }
  });

  it("the check has teeth: a response missing a field, with an extra one or a wrong type fails", async () => {
    const task = (await h.call("GET", "/openapi.json")).body.components.schemas.OpenedTask as Schema;
    const real = (
      await call("POST", "/v1/tasks", { token: agent, body: { intent: "teeth", ttl_seconds: 60 } })
    ).body;
    const root = doc as unknown as Schema;
    expect(validate(task, real, root)).toEqual([]);
    const { task_id: _missing, ...withoutId } = real;
    expect(validate(task, withoutId, root)).not.toEqual([]);
    expect(validate(task, { ...real, undocumented: 1 }, root)).not.toEqual([]);
    expect(validate(task, { ...real, created_at: "yesterday" }, root)).not.toEqual([]);
    expect(validate(task, { ...real, state: "ajar" }, root)).not.toEqual([]);
  });

  it("signals: the SSF metadata and a stream's whole life", async () => {
    expect((await call("GET", "/.well-known/ssf-configuration")).status).toBe(200);
    const headers = { authorization: `Basic ${Buffer.from(`tickets-rs:${RS_SECRET}`).toString("base64")}` };
    const created = await call("POST", "/v1/ssf/streams", {
      headers,
      body: { delivery: { method: "urn:ietf:rfc:8935", endpoint_url: "https://rs.example/events" } },
    });
    expect(created.status).toBe(201);
    const stream_id = created.body.stream_id as string;
    const query = `stream_id=${stream_id}`;
    expect((await call("GET", "/v1/ssf/streams", { headers, query })).status).toBe(200);
    expect((await call("GET", "/v1/ssf/streams", { headers })).body).toHaveLength(1);
    const patched = await call("PATCH", "/v1/ssf/streams", {
      headers,
      body: { stream_id, description: "d" },
    });
    expect(patched.status).toBe(200);
    expect((await call("GET", "/v1/ssf/status", { headers, query })).status).toBe(200);
    const off = await call("POST", "/v1/ssf/status", { headers, body: { stream_id, status: "disabled" } });
    expect(off.body.status).toBe("disabled");
    const refused = await call("POST", "/v1/ssf/verify", { headers, body: { stream_id } });
    expect(refused.status).toBe(400);
    await call("POST", "/v1/ssf/status", { headers, body: { stream_id, status: "enabled" } });
    expect((await call("POST", "/v1/ssf/verify", { headers, body: { stream_id } })).status).toBe(204);
    const polled = await call("POST", "/v1/ssf/streams", {
      headers,
      body: { delivery: { method: "urn:ietf:rfc:8936" } },
    });
    const poll = await call("POST", "/v1/ssf/poll/{stream_id}", {
      headers,
      params: { stream_id: polled.body.stream_id },
      body: { returnImmediately: true },
    });
    expect(poll.body).toEqual({ sets: {}, moreAvailable: false });
    const pollQuery = `stream_id=${polled.body.stream_id}`;
    expect((await call("DELETE", "/v1/ssf/streams", { headers, query: pollQuery })).status).toBe(204);
    expect((await call("DELETE", "/v1/ssf/streams", { headers, query })).status).toBe(204);
    expect((await call("GET", "/v1/ssf/status", { headers, query })).status).toBe(404);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: "idp", typ: "secevent+jwt" })
        .setIssuer(idpUrl)
        .setAudience("broker")
        .setIssuedAt()
        .sign(idpKey);
    const ssf = { "content-type": "application/secevent+jwt" };
    const noEvent = await sign({ jti: "set-0", sub_id: { format: "email", email: "nobody@example.com" } });
    expect((await call("POST", "/ssf/events", { headers: ssf, body: noEvent })).body.err).toBe(
      "invalid_request",
    );
    const revoked = await sign({
      jti: "set-1",
      sub_id: { format: "email", email: "nobody@example.com" },
      events: { "https://schemas.openid.net/secevent/caep/event-type/session-revoked": {} },
    });
    expect((await call("POST", "/ssf/events", { headers: ssf, body: revoked })).status).toBe(202);
  });

  it("the journeys reached every documented success response", () => {
    const expected = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).flatMap(([method, operation]) =>
        Object.keys(operation.responses)
          .filter((status) => /^2/.test(status))
          .map((status) => `${method.toUpperCase()} ${path} ${status}`),
      ),
    );
    expect(expected.filter((key) => !seen.has(key))).toEqual([]);
  });
});
