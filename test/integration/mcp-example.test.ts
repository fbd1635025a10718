import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMcpAgent } from "../../examples/mcp/agent.js";
import { startNotesServer } from "../../examples/mcp/notes-server.js";
import { assertionFromFunction } from "../../src/client/index.js";
import { freePort, type Harness, startHarness } from "../support/broker-harness.js";

/**
 * The MCP example end to end, with @modelcontextprotocol/sdk on both sides: the agent opens a task, its MCP
 * client gets a task-bound token from the broker with the task token, calls a tool on the MCP server
 * (protected by the resource-server kit), closes the task, and the next call is refused.
 */

const RS_SECRET = "mcp-example-rs-secret-0123456789abcdef";
let h: Harness;
let notes: Server;
let mcpUrl: URL;

beforeAll(async () => {
  const [brokerPort, mcpPort] = [await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${brokerPort}`;
  mcpUrl = new URL(`http://127.0.0.1:${mcpPort}/mcp`);
  h = await startHarness({
    name: "mcp-example",
    listenPort: brokerPort,
    config: {
      server: { public_url: issuer },
      profiles: {
        "notes-mcp": {
          provider: "signer",
          max_ttl_seconds: 300,
          audience: mcpUrl.href,
          scopes: ["notes:read"],
        },
      },
      resource_servers: [{ client_id: "notes-mcp", secret_env: "NOTES_RS_SECRET", audiences: [mcpUrl.href] }],
    },
    env: { NOTES_RS_SECRET: RS_SECRET },
  });
  notes = await startNotesServer({
    resource: mcpUrl.href,
    issuer,
    introspection: { clientId: "notes-mcp", clientSecret: RS_SECRET },
    port: mcpPort,
  });
});
afterAll(async () => {
  await new Promise<void>((resolve) => (notes ? notes.close(() => resolve()) : resolve()));
  await h?.close();
});

describe("the MCP example", () => {
  it("an agent's MCP client calls a tool with a task-bound token, and is refused once the task closes", async () => {
    const run = await runMcpAgent({
      brokerUrl: h.baseUrl,
      assertion: assertionFromFunction(() => h.token("summariser")),
      mcpUrl,
      insecure: true,
    });
    expect(run.firstCall).toEqual([
      { type: "text", text: JSON.stringify({ task_id: run.taskId, agent: "ci:summariser", notes: [] }) },
    ]);
    expect(run.refusal).toMatch(/invalid_token.*revoked/);
    const task = await h.call("GET", `/v1/tasks/${run.taskId}`, { token: await h.token("summariser") });
    expect(task.body.credentials).toEqual([expect.objectContaining({ profile: "notes-mcp" })]);
  });
});
