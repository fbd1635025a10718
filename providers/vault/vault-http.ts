import { type Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { VaultResponseTooLargeError } from "./vault-errors.js";

/**
 * The HTTP requests node-vault makes, done with node's own http/https so that every response body is read
 * with a cap: node-vault's axios client reads bodies in full and takes no size limit per call. node-vault
 * accepts this through its `request-promise` option (a `defaults()` returning the request function).
 */

/** The options node-vault hands its request function (its request-promise compatible subset). */
export interface VaultHttpOptions {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
  /** Socket idle timeout, ms. */
  timeout?: number;
  httpAgent?: HttpAgent;
  httpsAgent?: HttpsAgent;
}

/** What node-vault reads back: the status, the parsed body (or text; `""` when empty) and the path. */
export interface VaultHttpResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

/** node-vault's `request-promise` option: `defaults()` gives the request function. */
export interface VaultRequestPromise {
  defaults(): (options: VaultHttpOptions) => Promise<VaultHttpResponse>;
}

/** An error with a node-style `code`, which the transport reports as VaultUnreachableError. */
const coded = (code: string, message: string): Error => Object.assign(new Error(message), { code });

function parseBody(text: string): unknown {
  if (text === "") return "";
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Reads at most `maxBytes` of the body. Past the cap the response is destroyed (the connection closes):
 * a success status then fails with VaultResponseTooLargeError (Vault may have acted, its answer is lost);
 * an error status resolves without a body, so it is still classified by its status.
 */
function readCapped(
  response: IncomingMessage,
  maxBytes: number,
  path: string,
): Promise<VaultHttpResponse["body"]> {
  const status = response.statusCode ?? 0;
  const success = status >= 200 && status < 300;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const overflow = () => {
      response.destroy();
      if (success) reject(new VaultResponseTooLargeError(path, maxBytes));
      else resolve(undefined);
    };
    if (Number(response.headers["content-length"] ?? 0) > maxBytes) return overflow();
    response.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) return overflow();
      chunks.push(chunk);
    });
    response.on("end", () => resolve(parseBody(Buffer.concat(chunks, received).toString("utf8"))));
    response.on("error", reject);
  });
}

/** A node-vault request function whose responses are capped at `maxBytes`. */
export function cappedVaultHttp(maxBytes: number): VaultRequestPromise {
  const send = (options: VaultHttpOptions): Promise<VaultHttpResponse> => {
    const url = new URL(options.uri);
    const tls = url.protocol === "https:";
    const payload = options.json === undefined ? undefined : JSON.stringify(options.json);
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    if (payload !== undefined) headers["content-type"] = "application/json";
    return new Promise((resolve, reject) => {
      const init = { method: options.method, headers };
      const req = tls
        ? httpsRequest(url, { ...init, agent: options.httpsAgent })
        : httpRequest(url, { ...init, agent: options.httpAgent });
      if (options.timeout !== undefined) {
        req.setTimeout(options.timeout, () => req.destroy(coded("ETIMEDOUT", "Vault request timed out")));
      }
      req.on("error", reject);
      req.on("response", (response) => {
        readCapped(response, maxBytes, url.pathname)
          .then((body) =>
            resolve({ statusCode: response.statusCode ?? 0, body, request: { path: url.pathname } }),
          )
          .catch(reject);
      });
      req.end(payload);
    });
  };
  return { defaults: () => send };
}
