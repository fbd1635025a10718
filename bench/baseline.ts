import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { type CryptoKey, generateKeyPair, SignJWT } from "jose";

/**
 * The issuance baseline: a bare Express 5 endpoint on the same route that parses the same JSON body and signs
 * the same kind of token as the broker's signer (ES256 via jose, header typ at+jwt, RFC 9068 claims plus
 * task_id and initiator), and answers a JSON body of the same shape. No auth, policy, Redis nor audit.
 */
export interface Baseline {
  url: string;
  close(): Promise<void>;
}

interface BaselineRequest {
  ttl_seconds?: number;
  scopes?: string[];
  profile?: string;
}

export async function startBaseline(options: {
  issuer: string;
  audience: string;
  agent: string;
  /** Port on 127.0.0.1 (0: a free one). */
  port?: number;
}): Promise<Baseline> {
  const { privateKey } = await generateKeyPair("ES256");
  const key: CryptoKey = privateKey;
  const kid = randomBytes(8).toString("base64url");

  const app = express();
  app.disable("x-powered-by");
  app.use(express.json({ limit: "64kb", strict: true }));
  app.post("/v1/tasks/:taskId/credentials", async (req, res) => {
    const body = (req.body ?? {}) as BaselineRequest;
    const ttl = Math.min(body.ttl_seconds ?? 300, 900);
    const iat = Math.floor(Date.now() / 1000);
    const jti = `crd_${randomBytes(16).toString("base64url")}`;
    const scopes = body.scopes ?? [];
    const token = await new SignJWT({
      iss: options.issuer,
      sub: options.agent,
      aud: options.audience,
      iat,
      nbf: iat,
      exp: iat + ttl,
      jti,
      client_id: options.agent,
      ...(scopes.length > 0 ? { scope: scopes.join(" ") } : {}),
      task_id: req.params.taskId,
      initiator: "bench@example.com",
    })
      .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
      .sign(key);
    res.setHeader("Cache-Control", "no-store");
    res.status(201).json({
      credential_id: jti,
      task_id: req.params.taskId,
      profile: body.profile ?? "bench-api",
      provider: "signer",
      issued_at: new Date(iat * 1000).toISOString(),
      expires_at: new Date((iat + ttl) * 1000).toISOString(),
      ttl_seconds: ttl,
      scopes,
      downstream: { account: options.agent },
      secret: { token, token_type: "Bearer" },
      notes: [],
    });
  });
  // After the measured route, so it costs that route nothing; the bench polls it to know the process is up.
  app.get("/readyz", (_req, res) => {
    res.status(200).json({ status: "ready" });
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const started = app.listen(options.port ?? 0, "127.0.0.1", (err?: Error) =>
      err ? reject(err) : resolve(started),
    );
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
