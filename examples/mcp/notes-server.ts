/**
 * An MCP server (built with @modelcontextprotocol/sdk) protected by credbroker's resource-server kit: it
 * serves RFC 9728 metadata naming the broker, and every MCP request needs a broker access token for this
 * resource with `notes:read` (401 with `resource_metadata` otherwise, 403 `insufficient_scope`). Revocation
 * reaches it through the kit's short introspection cache, so closing the task refuses the next call.
 *
 * (Outside this repository, import from "credbroker/resource-server".)
 */
import type { IncomingMessage, Server } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import express from "express";
import {
  createResourceServer,
  type VerifiedToken,
  verifiedToken,
} from "../../src/client/resource-server/index.js";

export interface NotesServerOptions {
  /** This server's MCP endpoint, e.g. `http://127.0.0.1:8090/mcp`: the audience of its signer profile. */
  resource: string;
  /** The broker's issuer. */
  issuer: string;
  /** Its `resource_servers` entry, for introspection. */
  introspection: { clientId: string; clientSecret: string };
  port: number;
}

/** One MCP server per request (stateless Streamable HTTP), with a tool that says whose task it serves. */
function notesServer(token: VerifiedToken): McpServer {
  const server = new McpServer({ name: "notes", version: "1.0.0" });
  server.registerTool("list_notes", { description: "List the notes of the caller's task" }, async () => ({
    content: [
      { type: "text", text: JSON.stringify({ task_id: token.taskId, agent: token.claims.sub, notes: [] }) },
    ],
  }));
  return server;
}

export async function startNotesServer(options: NotesServerOptions): Promise<Server> {
  const kit = createResourceServer({
    resource: options.resource,
    issuer: options.issuer,
    scopes: ["notes:read"],
    introspection: options.introspection,
    // Every call asks the broker, so the example shows revocation at once; a busy server would keep a few seconds.
    introspectionCacheSeconds: 0,
  });
  const app = express();
  app.use(express.json());
  app.use(kit.metadata);
  app.post(
    new URL(options.resource).pathname,
    kit.requireToken({ scopes: ["notes:read"] }),
    async (req, res) => {
      const token = verifiedToken(res);
      if (!token) throw new Error("requireToken did not run");
      const server = notesServer(token);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on("close", () => void Promise.all([transport.close(), server.close()]));
      await server.connect(transport);
      // A plain IncomingMessage: express-oauth2-jwt-bearer's typings give Express requests another `auth`.
      const incoming: IncomingMessage = req;
      await transport.handleRequest(incoming, res, req.body);
    },
  );
  return new Promise<Server>((resolve) => {
    const listening = app.listen(options.port, "127.0.0.1", () => resolve(listening));
  });
}
