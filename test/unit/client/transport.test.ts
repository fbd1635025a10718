import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CredbrokerError } from "../../../src/client/errors.js";
import { type RetryEvent, retryPolicy } from "../../../src/client/retry.js";
import { createTransport, type RetryClass } from "../../../src/client/transport.js";

/** A scripted broker: each request is answered by the next step (the last one repeats). */
type Step = (req: IncomingMessage, res: ServerResponse) => void;
let steps: Step[] = [];
let seen: { method: string; url: string; requestId: string; authorization: string }[] = [];
let server: Server;
let url: string;

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Step =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
const apiError = (status: number, code: string, headers: Record<string, string> = {}) =>
  json(status, { error: { code, message: `${code} happened`, details: { hint: 1 } } }, headers);
const reset: Step = (req) => req.socket.destroy();
const hang: Step = () => undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        requestId: String(req.headers["x-request-id"]),
        authorization: String(req.headers.authorization),
      });
      const step = steps.length > 1 ? steps.shift() : steps[0];
      step?.(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
afterEach(() => {
  steps = [];
  seen = [];
});

function transport(options: { timeoutMs?: number; maxRetryAfterMs?: number; base?: string } = {}) {
  const sleeps: number[] = [];
  const retries: RetryEvent[] = [];
  let assertions = 0;
  const t = createTransport({
    url: options.base ?? url,
    assertion: () => `token-${++assertions}`,
    timeoutMs: options.timeoutMs ?? 2_000,
    retry: retryPolicy({
      attempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 5,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      onRetry: (event) => retries.push(event),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    }),
    fetch: (input, init) => fetch(input, init),
    userAgent: "test",
  });
  const call = (retry: RetryClass, method: "GET" | "POST" = "POST") =>
    t.request({ method, path: "/v1/x", retry, ...(method === "POST" ? { body: {} } : {}) });
  return { call, sleeps, retries };
}

async function failure(promise: Promise<unknown>): Promise<CredbrokerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CredbrokerError)) throw new Error(`expected a CredbrokerError, got ${String(err)}`);
  return err;
}

describe("client transport: retries and idempotency", () => {
  it("a read is retried on 503 with the same request id and a fresh assertion each try", async () => {
    steps = [apiError(503, "unavailable"), json(200, { ok: true })];
    const { call, retries } = transport();
    const answer = await call("idempotent", "GET");
    expect(answer.body).toEqual({ ok: true });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.requestId).toMatch(/^cbc_[0-9a-f-]{36}$/);
    expect(seen[1]!.requestId).toBe(seen[0]!.requestId);
    expect(answer.requestId).toBe(seen[0]!.requestId);
    expect(seen.map((s) => s.authorization)).toEqual(["Bearer token-1", "Bearer token-2"]);
    expect(retries[0]).toMatchObject({ reason: 503, attempt: 1 });
  });

  it("a 429 waits exactly what Retry-After asks, then retries, even for a credential request", async () => {
    steps = [apiError(429, "rate_limited", { "retry-after": "7" }), json(201, { issued: true })];
    const { call, sleeps } = transport();
    expect((await call("issues-credential")).status).toBe(201);
    expect(sleeps).toEqual([7_000]);
    expect(seen).toHaveLength(2);
  });

  it("a Retry-After longer than the client accepts fails at once with rate_limited", async () => {
    steps = [apiError(429, "rate_limited", { "retry-after": "120" })];
    const { call, sleeps } = transport({ maxRetryAfterMs: 30_000 });
    const err = await failure(call("idempotent", "GET"));
    expect(err).toMatchObject({ code: "rate_limited", status: 429, retryAfterSeconds: 120 });
    expect(sleeps).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  it("a credential request answered 503 is not retried: the provider may have issued", async () => {
    steps = [apiError(503, "unavailable"), json(201, {})];
    const { call } = transport();
    const err = await failure(call("issues-credential"));
    expect(err).toMatchObject({ code: "unavailable", status: 503, details: { hint: 1 } });
    expect(err.requestId).toBe(seen[0]!.requestId);
    expect(seen).toHaveLength(1);
  });

  it("a credential request whose connection breaks mid-request is not retried", async () => {
    steps = [reset, json(201, {})];
    const { call } = transport();
    expect((await failure(call("issues-credential"))).code).toBe("network_error");
    expect(seen).toHaveLength(1);
  });

  it("a credential request that times out is not retried, while a read that times out is", async () => {
    steps = [hang];
    const credential = transport({ timeoutMs: 150 });
    expect((await failure(credential.call("issues-credential"))).code).toBe("timeout");
    expect(seen).toHaveLength(1);
    seen = [];
    steps = [hang, json(200, { ok: 1 })];
    const read = transport({ timeoutMs: 150 });
    expect((await read.call("idempotent", "GET")).body).toEqual({ ok: 1 });
    expect(seen).toHaveLength(2);
  });

  it("a refused connection is retried even for a credential request: nothing was sent", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { call, retries } = transport({ base: `http://127.0.0.1:${port}` });
    const err = await failure(call("issues-credential"));
    expect(err.code).toBe("network_error");
    expect(retries.map((r) => r.reason)).toEqual(["network_error", "network_error"]);
  });

  it("opening a task is retried on 503 (the broker failed closed) but not after a broken connection", async () => {
    steps = [apiError(503, "unavailable"), json(201, { task_id: "tsk_x" })];
    expect((await transport().call("at-most-once")).status).toBe(201);
    expect(seen).toHaveLength(2);
    seen = [];
    steps = [reset, json(201, {})];
    expect((await failure(transport().call("at-most-once"))).code).toBe("network_error");
    expect(seen).toHaveLength(1);
  });

  it("gives up after the configured attempts with the last error", async () => {
    steps = [apiError(503, "unavailable")];
    const err = await failure(transport().call("idempotent", "GET"));
    expect(err.code).toBe("unavailable");
    expect(seen).toHaveLength(3);
  });

  it("API errors keep code, status and details; other bodies become invalid_response", async () => {
    steps = [apiError(403, "policy_denied")];
    expect(await failure(transport().call("idempotent", "GET"))).toMatchObject({
      code: "policy_denied",
      status: 403,
      message: "policy_denied happened",
    });
    steps = [
      (_req, res) => {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html>bad gateway</html>");
      },
    ];
    expect(await failure(transport().call("idempotent", "GET"))).toMatchObject({
      code: "invalid_response",
      status: 502,
    });
  });

  it("an aborted signal stops a call, also while it waits to retry", async () => {
    steps = [apiError(503, "unavailable")];
    const controller = new AbortController();
    const t = createTransport({
      url,
      assertion: () => "t",
      timeoutMs: 2_000,
      retry: retryPolicy({ attempts: 5, baseDelayMs: 10_000, maxDelayMs: 10_000 }),
      fetch: (input, init) => fetch(input, init),
      userAgent: "test",
    });
    const pending = t.request({
      method: "GET",
      path: "/v1/x",
      retry: "idempotent",
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    expect((await failure(pending)).code).toBe("aborted");
    expect(seen).toHaveLength(1);
  });
});
