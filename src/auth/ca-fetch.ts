import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";

/**
 * A `fetch` for an issuer whose TLS certificate is signed by a private CA (a Kubernetes API server's, at
 * `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt`): GETs over `node:https` trusting exactly the
 * CAs of `caFile` (PEM), answering a standard `Response` so the bounded readers work unchanged. Redirects
 * are not followed (as the global fetch is used with `redirect: "error"`).
 */
export function fetchTrusting(caFile: string): typeof fetch {
  const ca = readFileSync(caFile, "utf8");
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.protocol !== "https:")
        return reject(new TypeError(`ca_file applies to https only: ${url.href}`));
      const req = httpsRequest(url, { method: "GET", ca, headers: { accept: "application/json" } }, (res) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        resolve(
          new Response(Readable.toWeb(res) as ReadableStream, { status: res.statusCode ?? 502, headers }),
        );
      });
      const signal = init?.signal;
      signal?.addEventListener("abort", () => req.destroy(signal.reason as Error), { once: true });
      req.on("error", (err) => reject(new TypeError("fetch failed", { cause: err })));
      req.end();
    });
}
