import { exportJWK, generateKeyPair } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type Harness, startHarness, waitFor } from "../support/broker-harness.js";

/**
 * Introspection (RFC 7662) and revocation (RFC 7009) at the endpoints the metadata names, through
 * openid-client's tokenIntrospection and tokenRevocation, with the resource servers' client authentication
 * (client_secret_basic and private_key_jwt). Revoking a token revokes that credential only.
 */

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const TICKETS = "https://tickets.internal";
const RS_SECRET = "revocation-rs-secret-0123456789abcdef";

let h: Harness;
let publicUrl: string;
let agent: string;
let basicRs: client.Configuration;
let jwtRs: client.Configuration;
let reportsRs: client.Configuration;
let agentClient: client.Configuration;

beforeAll(async () => {
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "rs-key-1", alg: "ES256", use: "sig" };
  h = await startHarness({
    name: "oauth-revocation",
    listenPort: port,
    config: {
      server: { public_url: publicUrl },
      resource_servers: [
        { client_id: "tickets-rs", secret_env: "REV_RS_SECRET", audiences: [TICKETS] },
        { client_id: "tickets-rs-jwt", jwks: { keys: [jwk] }, audiences: [TICKETS] },
        { client_id: "reports-rs", secret_env: "REV_RS_SECRET", audiences: ["https://reports.internal"] },
      ],
    },
    env: { REV_RS_SECRET: RS_SECRET },
  });
  agent = await h.token("summariser");
  const options = { execute: [client.allowInsecureRequests] };
  const server = new URL(publicUrl);
  basicRs = await client.discovery(
    server,
    "tickets-rs",
    undefined,
    client.ClientSecretBasic(RS_SECRET),
    options,
  );
  jwtRs = await client.discovery(
    server,
    "tickets-rs-jwt",
    undefined,
    client.PrivateKeyJwt({ key: privateKey, kid: "rs-key-1" }),
    options,
  );
  reportsRs = await client.discovery(
    server,
    "reports-rs",
    undefined,
    client.ClientSecretBasic(RS_SECRET),
    options,
  );
  agentClient = await client.discovery(server, "agent-runtime", undefined, client.None(), options);
});
afterAll(async () => h?.close());

async function issuedToken() {
  const task = (
    await h.call("POST", "/v1/tasks", { token: agent, body: { intent: "revocation", ttl_seconds: 600 } })
  ).body as { task_id: string; task_token: string };
  const tokens = await client.genericGrantRequest(agentClient, JWT_BEARER, {
    assertion: task.task_token,
    resource: TICKETS,
    scope: "tickets:read",
  });
  return { task, accessToken: tokens.access_token };
}

const credentialStates = async (taskId: string) =>
  (
    (await h.call("GET", `/v1/tasks/${taskId}`, { token: agent })).body.credentials as { state: string }[]
  ).map((c) => c.state);

describe("introspection and revocation at the metadata's endpoints", () => {
  it("the metadata names both endpoints with client_secret_basic and private_key_jwt", () => {
    const metadata = basicRs.serverMetadata();
    expect(metadata.revocation_endpoint).toBe(`${publicUrl}/oauth/revoke`);
    expect(metadata.revocation_endpoint_auth_methods_supported).toEqual([
      "client_secret_basic",
      "private_key_jwt",
    ]);
    expect(metadata.introspection_endpoint).toBe(`${publicUrl}/v1/introspect`);
  });

  it("openid-client introspects with client_secret_basic and with private_key_jwt", async () => {
    const { task, accessToken } = await issuedToken();
    for (const config of [basicRs, jwtRs]) {
      const answer = await client.tokenIntrospection(config, accessToken);
      expect(answer).toMatchObject({
        active: true,
        aud: TICKETS,
        task_id: task.task_id,
        scope: "tickets:read",
      });
    }
    expect((await client.tokenIntrospection(reportsRs, accessToken)).active).toBe(false);
  });

  it("a resource server revokes a token of its audience: that credential only, the task stays open", async () => {
    const { task, accessToken } = await issuedToken();
    const other = await client.genericGrantRequest(agentClient, JWT_BEARER, {
      assertion: task.task_token,
      resource: TICKETS,
    });
    await client.tokenRevocation(basicRs, accessToken);
    expect((await client.tokenIntrospection(basicRs, accessToken)).active).toBe(false);
    expect((await client.tokenIntrospection(basicRs, other.access_token)).active).toBe(true);
    await waitFor(async () => (await credentialStates(task.task_id)).includes("revoked"), 10_000, "revoked");
    expect((await credentialStates(task.task_id)).sort()).toEqual(["active", "revoked"]);
    const read = await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent });
    expect(read.body.state).toBe("open");
  });

  it("private_key_jwt revokes too; the agent may revoke its own token with its workload assertion", async () => {
    const first = await issuedToken();
    await client.tokenRevocation(jwtRs, first.accessToken);
    expect((await client.tokenIntrospection(basicRs, first.accessToken)).active).toBe(false);
    const second = await issuedToken();
    const res = await fetch(`${publicUrl}/oauth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${agent}` },
      body: new URLSearchParams({ token: second.accessToken }).toString(),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect((await client.tokenIntrospection(basicRs, second.accessToken)).active).toBe(false);
  });

  it("tokens of other audiences or agents are left alone, and the answer is still 200", async () => {
    const { accessToken } = await issuedToken();
    await client.tokenRevocation(reportsRs, accessToken);
    const stranger = await h.token("stranger");
    const res = await fetch(`${publicUrl}/oauth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${stranger}` },
      body: new URLSearchParams({ token: accessToken }).toString(),
    });
    expect(res.status).toBe(200);
    await client.tokenRevocation(basicRs, "not-a-token");
    expect((await client.tokenIntrospection(basicRs, accessToken)).active).toBe(true);
  });

  it("a task token is unsupported_token_type; a bad client is 401 invalid_client", async () => {
    const { task } = await issuedToken();
    const error = await client.tokenRevocation(basicRs, task.task_token).catch((err: unknown) => err);
    expect((error as client.ResponseBodyError).error).toBe("unsupported_token_type");
    const res = await fetch(`${publicUrl}/oauth/revoke`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from("tickets-rs:wrong").toString("base64")}`,
      },
      body: new URLSearchParams({ token: "x" }).toString(),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_client");
  });
});
