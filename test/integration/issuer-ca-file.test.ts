import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOidcIssuer, type OidcIssuer } from "../../src/dev/oidc-issuer.js";
import { type Harness, startHarness } from "../support/broker-harness.js";
import { TEST_POLICY } from "../support/test-policy.js";

/**
 * An issuer behind a private CA (a Kubernetes API server's JWKS, in a pod): trusted through
 * `issuers[].ca_file`, refused without it — and the refusal logged with its real cause.
 */

const dir = mkdtempSync(path.join(tmpdir(), "credbroker-ca-"));
const CA_POLICY = TEST_POLICY.replaceAll('principal.issuer == "ci"', 'principal.issuer == "k8s"');
let server: Server;
let issuer: OidcIssuer;
let issuerUrl: string;
const harnesses: Harness[] = [];

beforeAll(async () => {
  // A self-signed certificate for 127.0.0.1 stands in for the cluster CA.
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      path.join(dir, "key.pem"),
      "-out",
      path.join(dir, "ca.crt"),
    ],
    { stdio: "ignore" },
  );
  const app = express();
  server = createServer(
    { key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "ca.crt")) },
    app,
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuerUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = await createOidcIssuer({ issuerUrl });
  app.use(issuer.router());
});
afterAll(async () => {
  for (const h of harnesses) await h.close();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function brokerTrusting(caFile: string | undefined, logs?: NodeJS.WritableStream): Promise<Harness> {
  const h = await startHarness({
    name: "issuerca",
    policy: CA_POLICY,
    logDestination: logs,
    config: {
      issuers: [
        {
          name: "k8s",
          kind: "oidc",
          issuer: issuerUrl,
          jwks_cooldown_seconds: 0,
          ...(caFile ? { ca_file: caFile } : {}),
        },
      ],
    },
  });
  harnesses.push(h);
  return h;
}

const openTask = async (h: Harness) =>
  h.call("POST", "/v1/tasks", {
    token: await issuer.mint({ sub: "system:serviceaccount:agents:bot", aud: "credbroker-test" }),
    body: { intent: "in cluster", ttl_seconds: 60 },
  });

describe("an issuer behind a private CA", () => {
  it("is trusted with issuers[].ca_file", async () => {
    const h = await brokerTrusting(path.join(dir, "ca.crt"));
    const res = await openTask(h);
    expect(res.status, res.text).toBe(201);
  });

  it("is refused without it, and the log names the TLS cause instead of 'fetch failed'", async () => {
    let logs = "";
    const sink = {
      write: (line: string) => {
        logs += line;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    const h = await brokerTrusting(undefined, sink);
    expect((await openTask(h)).status).toBe(401);
    const line = logs.split("\n").find((l) => l.includes("JWKS fetch failed")) ?? "";
    expect(JSON.parse(line).error).toMatch(/^fetch failed: .*self.signed certificate/i);
  });
});
