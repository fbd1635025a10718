import { randomUUID } from "node:crypto";
import { z } from "zod";
import { ApiError, CliError, EXIT } from "./cli-errors.js";

/** Query parameters; undefined values are left out. */
export type Query = Record<string, string | number | undefined>;

/** The broker's HTTP API as the operator commands use it: JSON in and out, typed errors. */
export interface ApiClient {
  readonly baseUrl: string;
  /** GET, answering the parsed JSON body. */
  get(path: string, query?: Query): Promise<unknown>;
  /** POST with a JSON body, answering the parsed JSON body. */
  post(path: string, body?: unknown): Promise<unknown>;
  /** GET with another `Accept` (e.g. `text/html`), answering the body as text. */
  getText(path: string, accept: string, query?: Query): Promise<string>;
}

export interface ApiClientOptions {
  baseUrl: string;
  token: string;
  /** Per request; the broker answers admin calls in well under this. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/**
 * A client for `baseUrl` that authenticates every call with the workload token. Non-2xx answers become
 * `ApiError` (401 → exit code 2, others 1); an unreachable broker becomes a `CliError` naming the URL.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;

  const urlOf = (path: string, query: Query = {}) => {
    const url = new URL(path, options.baseUrl);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  };

  async function send(method: string, url: URL, accept: string, body?: unknown): Promise<Response> {
    const requestId = randomUUID();
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.token}`,
      accept,
      "x-request-id": requestId,
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      throw new CliError(
        `cannot reach the broker at ${options.baseUrl} (${cause instanceof Error ? cause.message : String(cause)}); set --url or CREDBROKER_URL`,
        EXIT.failed,
        { cause: err },
      );
    }
    if (!res.ok) throw await toApiError(res, requestId);
    return res;
  }

  async function json(res: Response): Promise<unknown> {
    const text = await res.text();
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      throw new CliError(`the broker answered ${res.status} with a body that is not JSON`);
    }
  }

  return {
    baseUrl: options.baseUrl,
    get: async (path, query) => json(await send("GET", urlOf(path, query), "application/json")),
    post: async (path, body = {}) => json(await send("POST", urlOf(path), "application/json", body)),
    getText: async (path, accept, query) => (await send("GET", urlOf(path, query), accept)).text(),
  };
}

async function toApiError(res: Response, sentRequestId: string): Promise<ApiError> {
  const requestId = res.headers.get("x-request-id") ?? sentRequestId;
  const text = await res.text();
  let parsed: z.infer<typeof errorBody> | null = null;
  try {
    const result = errorBody.safeParse(JSON.parse(text));
    parsed = result.success ? result.data : null;
  } catch {
    parsed = null;
  }
  return new ApiError({
    status: res.status,
    code: parsed?.error.code ?? "http_error",
    message: parsed?.error.message ?? (res.statusText || "the broker gave no error body"),
    details: parsed?.error.details,
    requestId,
  });
}

/** Parses a broker answer with `schema`; a shape mismatch is reported as an unexpected answer, not a crash. */
export function expectShape<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new CliError(
    `unexpected answer for ${what}: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "wrong shape"}`,
  );
}
