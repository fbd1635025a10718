import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";

/**
 * An RFC 8935 push receiver written from the RFC text, not from the broker's code: it accepts
 * `POST` with `Content-Type: application/secevent+jwt` (§2.2), verifies the SET (RFC 8417: JWS with
 * `typ: secevent+jwt`, `iss`, `aud`) against the transmitter's JWKS, answers 202 on success (§2.3) and
 * 400 `{"err", "description"}` (§2.4) otherwise. `failNext(n)` makes it answer 503 n times (a receiver
 * that is down), without reading the SET as received.
 */
export interface SetReceiver {
  url: string;
  /** Every SET verified, in arrival order (duplicates of a `jti` kept, so redelivery is visible). */
  received: { payload: JWTPayload; header: Record<string, unknown>; at: number }[];
  /** Bodies refused with 400, with the `err` sent. */
  refused: { err: string; description: string }[];
  failNext(times: number): void;
  close(): Promise<void>;
}

export async function startSetReceiver(options: {
  jwksUrl: string;
  issuer: string;
  audience: string;
}): Promise<SetReceiver> {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl));
  const received: SetReceiver["received"] = [];
  const refused: SetReceiver["refused"] = [];
  let failures = 0;

  async function handle(req: IncomingMessage): Promise<{ status: number; body?: unknown }> {
    if (req.method !== "POST") return { status: 405 };
    const body = await readBody(req);
    if (failures > 0) {
      failures -= 1;
      return { status: 503 };
    }
    if (req.headers["content-type"]?.split(";")[0]?.trim() !== "application/secevent+jwt") {
      return error("invalid_request", "Content-Type must be application/secevent+jwt");
    }
    try {
      const { payload, protectedHeader } = await jwtVerify(body, jwks, {
        issuer: options.issuer,
        audience: options.audience,
        typ: "secevent+jwt",
      });
      if (typeof payload.jti !== "string" || typeof payload.events !== "object") {
        return error("invalid_request", "a SET needs jti and events");
      }
      received.push({ payload, header: { ...protectedHeader }, at: performance.now() });
      return { status: 202 };
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED") {
        const claim = (err as { claim?: string }).claim;
        return error(claim === "aud" ? "invalid_audience" : "invalid_issuer", String(err));
      }
      return error("invalid_key", String(err));
    }
    function error(err: string, description: string) {
      refused.push({ err, description });
      return { status: 400, body: { err, description } };
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req).then(
      ({ status, body }) => {
        if (body === undefined) return void res.writeHead(status).end();
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    received,
    refused,
    failNext(times) {
      failures = times;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
