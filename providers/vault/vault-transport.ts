import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import nodeVault from "node-vault";
import { z } from "zod";
import { VaultApiError, VaultResponseTooLargeError, VaultUnreachableError } from "./vault-errors.js";
import { cappedVaultHttp } from "./vault-http.js";

/**
 * The HTTP edge to Vault, over node-vault's generic `request` (never its generated commands), whose HTTP is
 * node's own with a cap on every response body (`vault-http.ts`: {@link MAX_VAULT_RESPONSE_BYTES}). It works
 * around node-vault's pitfalls (shared/reference/vault.md §6): a timeout on every call (node-vault has none),
 * keep-alive agents, the token sent per call (the `tokenCreate*` commands would replace the client's own
 * token), no global `requestOptions.headers` (node-vault mutates them), no `VAULT_*` environment fallbacks,
 * no `debug` logging of bodies (they hold secrets), LIST as `GET ?list=true`, and errors turned into typed
 * VaultApiError / VaultUnreachableError. Responses come back `unknown`; callers parse them with zod.
 */

export interface VaultCall {
  method: "GET" | "POST" | "LIST";
  /** Relative to `/v1/`, e.g. `database/creds/reports-ro`. */
  path: string;
  body?: Record<string, unknown>;
  /** Sent as `X-Vault-Token`; omitted for logins. */
  token?: string;
}

export interface VaultTransport {
  /** The JSON body of a 200, or null for a 204. Throws VaultApiError or VaultUnreachableError. */
  send(call: VaultCall): Promise<unknown>;
  /** Drops idle keep-alive connections. */
  close(): void;
}

export interface VaultTransportOptions {
  address: string;
  namespace?: string;
  timeoutMs: number;
  /** PEM CA bundle for Vault's TLS certificate. */
  ca?: string;
  /** Cap on each response body. Default {@link MAX_VAULT_RESPONSE_BYTES}. */
  maxResponseBytes?: number;
}

/**
 * Vault's answers are a few KiB (a list of a few thousand keys stays well below this); a larger body is
 * refused after this many bytes instead of being buffered.
 */
export const MAX_VAULT_RESPONSE_BYTES = 1024 * 1024;

/** node-vault's ApiResponseError (not exported by the package): detected by shape, not by class. */
const apiResponseErrorSchema = z.object({
  response: z.object({ statusCode: z.number().int(), body: z.unknown() }),
});
const vaultErrorBodySchema = z.object({ errors: z.array(z.string()) });
const networkErrorSchema = z.object({ code: z.string().min(1) });

/** Every request keeps at most this many idle sockets per agent. */
const MAX_FREE_SOCKETS = 16;
/**
 * An idle kept-alive socket is closed after this long: before the 5 s keep-alive timeout of Node servers and
 * of many proxies, so a request never goes out on a socket the server is closing at that moment (an
 * ECONNRESET, which the provider must treat as "may have been issued").
 */
const IDLE_SOCKET_MS = 4_000;

export function createVaultTransport(options: VaultTransportOptions): VaultTransport {
  const httpAgent = new HttpAgent({
    keepAlive: true,
    maxFreeSockets: MAX_FREE_SOCKETS,
    timeout: IDLE_SOCKET_MS,
  });
  const httpsAgent = new HttpsAgent({
    keepAlive: true,
    maxFreeSockets: MAX_FREE_SOCKETS,
    timeout: IDLE_SOCKET_MS,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  });
  const client = nodeVault({
    endpoint: options.address,
    apiVersion: "v1",
    token: "",
    debug: () => {},
    requestOptions: {},
    "request-promise": cappedVaultHttp(options.maxResponseBytes ?? MAX_VAULT_RESPONSE_BYTES),
  });
  // node-vault falls back to VAULT_TOKEN, VAULT_NAMESPACE and VAULT_PREFIX when an option is empty; the
  // broker's identity and namespace come only from its own config.
  Object.assign(client, { token: "", namespace: options.namespace ?? "", pathPrefix: "" });

  function toTypedError(err: unknown, path: string): Error {
    if (err instanceof VaultResponseTooLargeError)
      return new VaultResponseTooLargeError(path, err.limitBytes);
    const api = apiResponseErrorSchema.safeParse(err);
    if (api.success) {
      const body = vaultErrorBodySchema.safeParse(api.data.response.body);
      return new VaultApiError(api.data.response.statusCode, body.success ? body.data.errors : [], path);
    }
    const network = networkErrorSchema.safeParse(err);
    if (network.success) return new VaultUnreachableError(network.data.code, path);
    return err instanceof Error ? err : new Error(String(err));
  }

  async function send(call: VaultCall): Promise<unknown> {
    // Vault Agent / Proxy with `require_request_header` refuse requests without it; the Vault CLI always sends it.
    const headers: Record<string, string> = { "X-Vault-Request": "true" };
    if (call.token !== undefined) headers["X-Vault-Token"] = call.token;
    const listing = call.method === "LIST";
    let timer: NodeJS.Timeout | undefined;
    // The request's timeout is a socket-idle timeout; this bounds the whole call as well.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new VaultUnreachableError("ETIMEDOUT", call.path)),
        options.timeoutMs + 50,
      );
    });
    try {
      const body: unknown = await Promise.race([
        client.request({
          path: `/${call.path}${listing ? "?list=true" : ""}`,
          method: listing ? "GET" : call.method,
          headers,
          ...(call.body === undefined ? {} : { json: call.body }),
          timeout: options.timeoutMs,
          httpAgent,
          // Our own agent on every call, so VAULT_SKIP_VERIFY (which node-vault applies to its default agent)
          // cannot switch off TLS verification.
          httpsAgent,
        }),
        deadline,
      ]);
      return body === "" || body === undefined ? null : body;
    } catch (err) {
      throw toTypedError(err, call.path);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    send,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
