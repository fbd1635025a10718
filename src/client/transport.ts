import { randomUUID } from "node:crypto";
import { type AssertionSource, readAssertion } from "./assertion-source.js";
import { CredbrokerError } from "./errors.js";
import {
  abortedError,
  backoffDelay,
  failedBeforeSending,
  parseRetryAfter,
  type RetryPolicy,
} from "./retry.js";

/**
 * How a call may be repeated after a failure. The broker hands out secrets, so the classes err on the side
 * of never causing a second issuance:
 * - `idempotent` (reads, closing a task, polling an approval): retried on 429, 503, timeouts and any
 *   network error. Polling an approval can redeem it, but the broker hands a credential out at most once,
 *   so a repeat can lose an answer (reported as `approval_already_redeemed`), never issue twice.
 * - `at-most-once` (opening or delegating a task, approving, denying): retried on 429, on 503 (the broker
 *   fails closed: it answers 503 only when it could not record the request) and when the request was never
 *   sent; not after a timeout or a connection lost mid-request, where the broker may have acted.
 * - `issues-credential` (requesting a credential): retried only when the broker certainly did nothing: a 429
 *   (the rate limiter answers before any handler runs) or a connection that was never established. A 503,
 *   a timeout or a broken connection may come after the provider issued, so the error goes to the caller,
 *   who can look at the task (`GET /v1/tasks/{id}` lists every credential) before asking again.
 */
export type RetryClass = "idempotent" | "at-most-once" | "issues-credential";

/** One API call. */
export interface ApiCall {
  method: "GET" | "POST";
  /** Path and query under the broker URL, e.g. `/v1/tasks`. */
  path: string;
  body?: unknown;
  retry: RetryClass;
  signal?: AbortSignal | undefined;
}

/** A 2xx answer. */
export interface ApiAnswer {
  status: number;
  body: unknown;
  requestId: string;
}

/** Sends API calls: authentication, request ids, timeouts and retries. */
export interface Transport {
  readonly url: string;
  request(call: ApiCall): Promise<ApiAnswer>;
}

/** What {@link createTransport} needs; `createBrokerClient` fills it from its options. */
export interface TransportOptions {
  url: string;
  assertion: AssertionSource;
  timeoutMs: number;
  retry: RetryPolicy;
  fetch: typeof fetch;
  userAgent: string;
}

type Attempt =
  | { kind: "answer"; status: number; body: unknown; retryAfterMs: number | undefined }
  | { kind: "failure"; error: CredbrokerError; sent: boolean };

/**
 * Every call carries `X-Request-Id: cbc_<uuid>`, the same on each retry of one call, which the broker
 * echoes and logs: it ties a client-side error to the broker's record of the request.
 */
export function createTransport(options: TransportOptions): Transport {
  const base = options.url.replace(/\/+$/, "");

  async function attempt(call: ApiCall, requestId: string): Promise<Attempt> {
    const token = await readAssertion(options.assertion);
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: "application/json",
      "user-agent": options.userAgent,
      "x-request-id": requestId,
    };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const res = await options.fetch(`${base}${call.path}`, {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal,
        redirect: "error",
      });
      status = res.status;
      retryAfter = res.headers.get("retry-after");
      text = await res.text();
    } catch (err) {
      if (call.signal?.aborted) throw abortedError(call.signal);
      if (timeout.aborted) {
        const error = new CredbrokerError(
          "timeout",
          `${call.method} ${call.path} took over ${options.timeoutMs} ms.`,
          {
            requestId,
            cause: err,
          },
        );
        return { kind: "failure", error, sent: true };
      }
      const error = new CredbrokerError("network_error", `Cannot reach the broker at ${base}.`, {
        requestId,
        cause: err,
      });
      return { kind: "failure", error, sent: !failedBeforeSending(err) };
    }
    return { kind: "answer", status, body: parseJson(text), retryAfterMs: parseRetryAfter(retryAfter) };
  }

  function mayRetry(call: ApiCall, outcome: Attempt): boolean {
    if (outcome.kind === "failure") return !outcome.sent || call.retry === "idempotent";
    if (outcome.status === 429) return true;
    return outcome.status === 503 && call.retry !== "issues-credential";
  }

  return {
    url: base,
    async request(call) {
      const requestId = `cbc_${randomUUID()}`;
      const policy = options.retry;
      for (let tries = 1; ; tries++) {
        if (call.signal?.aborted) throw abortedError(call.signal);
        const outcome = await attempt(call, requestId);
        if (outcome.kind === "answer" && outcome.status >= 200 && outcome.status < 300) {
          return { status: outcome.status, body: outcome.body, requestId };
        }
        const error =
          outcome.kind === "failure"
            ? outcome.error
            : answerError(call, outcome.status, outcome.body, requestId, outcome.retryAfterMs);
        const waitMs = outcome.kind === "answer" ? outcome.retryAfterMs : undefined;
        if (!mayRetry(call, outcome) || tries >= policy.attempts) throw error;
        if (waitMs !== undefined && waitMs > policy.maxRetryAfterMs) throw error;
        const delayMs = waitMs ?? backoffDelay(policy, tries);
        policy.onRetry?.({
          method: call.method,
          path: call.path,
          attempt: tries,
          delayMs,
          reason: outcome.kind === "answer" ? outcome.status : outcome.error.code,
          requestId,
        });
        await policy.sleep(delayMs, call.signal);
      }
    },
  };
}

function parseJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The API's error shape `{"error": {code, message, details?}}` as a typed error; anything else is `invalid_response`. */
function answerError(
  call: ApiCall,
  status: number,
  body: unknown,
  requestId: string,
  retryAfterMs: number | undefined,
): CredbrokerError {
  const error = record(record(body)?.error);
  const retryAfterSeconds = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    return new CredbrokerError(error.code, error.message, {
      status,
      details: record(error.details),
      requestId,
      retryAfterSeconds,
    });
  }
  return new CredbrokerError(
    "invalid_response",
    `${call.method} ${call.path} answered HTTP ${status} without an API error body.`,
    {
      status,
      requestId,
      retryAfterSeconds,
    },
  );
}
