/**
 * An agent that calls an MCP tool with a task-bound token: it opens a task with the credbroker client, hands
 * the task token to its MCP client as the workload credential, calls a tool, closes the task, and is refused
 * on the next call.
 *
 * The wiring (docs/oauth.md "The MCP example"): the MCP SDK's own OAuth flow (`authProvider`) parses the
 * authorization server's metadata with a schema that requires `authorization_endpoint` and
 * `response_types_supported: ["code", …]`, which the broker does not publish because it has no browser flow.
 * So the agent keeps the SDK's discovery of the MCP server's RFC 9728 metadata
 * (`discoverOAuthProtectedResourceMetadata`) and its transport, and plugs the grant in through the
 * transport's `fetch` hook: openid-client discovers the broker (RFC 8414) and runs the RFC 7523 JWT-bearer
 * grant with the task token and the metadata's `resource` (the MCP workload identity federation flow).
 */

import { discoverOAuthProtectedResourceMetadata } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import * as oauth from "openid-client";
import { type AssertionSource, createBrokerClient, type TaskHandle } from "../../src/client/index.js";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/**
 * A `fetch` for the MCP transport that sends a broker access token for the MCP server, got with the task
 * token and renewed shortly before it expires. It never retries a refused grant: a closed task stays closed.
 */
export function taskTokenFetch(options: {
  mcpUrl: URL;
  taskToken: string;
  scope: string;
  insecure?: boolean;
}) {
  let cached: { token: string; until: number } | undefined;

  async function accessToken(): Promise<string> {
    if (cached && cached.until > Date.now()) return cached.token;
    const resource = await discoverOAuthProtectedResourceMetadata(options.mcpUrl);
    const issuer = resource.authorization_servers?.[0];
    if (!issuer) throw new Error("the MCP server names no authorization server");
    const broker = await oauth.discovery(new URL(issuer), "mcp-agent", undefined, oauth.None(), {
      ...(options.insecure ? { execute: [oauth.allowInsecureRequests] } : {}),
    });
    const tokens = await oauth.genericGrantRequest(broker, JWT_BEARER, {
      assertion: options.taskToken,
      resource: resource.resource,
      scope: options.scope,
    });
    cached = { token: tokens.access_token, until: Date.now() + ((tokens.expires_in ?? 60) - 10) * 1000 };
    return tokens.access_token;
  }

  return async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", `Bearer ${await accessToken()}`);
    const res = await fetch(url, { ...init, headers });
    if (res.status === 401) cached = undefined;
    return res;
  };
}

/** Closing revokes the task's credentials in the background; the task reads `closed` once all are revoked. */
async function untilClosed(task: TaskHandle): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await task.refresh()).state === "closed") return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${task.id} did not finish closing`);
}

export interface AgentRun {
  taskId: string;
  /** What the tool answered while the task was open. */
  firstCall: unknown;
  /** Why the call after closing the task was refused. */
  refusal: string;
}

export async function runMcpAgent(options: {
  brokerUrl: string;
  assertion: AssertionSource;
  mcpUrl: URL;
  insecure?: boolean;
}): Promise<AgentRun> {
  const broker = createBrokerClient({ url: options.brokerUrl, assertion: options.assertion });
  const task = await broker.openTask({ intent: "read my notes over MCP", ttlSeconds: 300 });
  const taskToken = task.info.taskToken;
  if (!taskToken) throw new Error("the broker answered no task token");
  const mcp = new Client({ name: "notes-agent", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(options.mcpUrl, {
    fetch: taskTokenFetch({
      mcpUrl: options.mcpUrl,
      taskToken,
      scope: "notes:read",
      insecure: options.insecure,
    }),
  });
  await mcp.connect(transport);
  const first = await mcp.callTool({ name: "list_notes", arguments: {} });
  await task.close();
  await untilClosed(task);
  const refusal = await mcp.callTool({ name: "list_notes", arguments: {} }).then(
    () => "not refused",
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  await mcp.close().catch(() => undefined);
  return { taskId: task.id, firstCall: first.content, refusal };
}
