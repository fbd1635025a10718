import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { capabilitiesOn, type SimPolicy } from "./vault-sim-acl.js";
import {
  type AppRole,
  createSimModel,
  type DbRole,
  type SimLease,
  type SimToken,
  type TokenRole,
  tokenDisplayName,
} from "./vault-sim-model.js";
import { healthReply, sysRoutes } from "./vault-sim-sys-routes.js";
import { type SimRoute, tokenRoutes } from "./vault-sim-token-routes.js";
import { PERMISSION_DENIED, SimHttpError, type SimReply } from "./vault-sim-wire.js";

/**
 * A HashiCorp Vault simulator on a loopback port: the token auth method, `sys/leases/*`, the database secrets
 * engine's `creds/:role` and one AppRole login, with Vault's shapes, status codes and error bodies (see
 * shared/reference/vault.md §9). Test controls seal it, inject faults, take it offline and list what is alive.
 */

export interface VaultSimOptions {
  /** Epoch ms; inject to drive expiry from a test clock. */
  now?: () => number;
  policies?: Record<string, SimPolicy>;
  dbRoles?: Record<string, DbRole>;
  tokenRoles?: Record<string, TokenRole>;
  appRoles?: Record<string, AppRole>;
  /** How long a `slow` fault holds a request before serving it. Default 2000 ms. */
  slowMs?: number;
}

/** `error500`: a 500 error body; `reset`: the connection is dropped; `slow`: served late (after `slowMs`). */
export type SimFault = "error500" | "reset" | "slow";

export interface LeaseView {
  id: string;
  path: string;
  namespace: string;
  expiresAt: number;
  ownerAccessor: string | undefined;
  dbUser: string | undefined;
}

export interface TokenView {
  accessor: string;
  namespace: string;
  policies: string[];
  displayName: string;
  meta: Record<string, string> | null;
  expiresAt: number | null;
  orphan: boolean;
  numUses: number;
  path: string;
}

export interface VaultSim {
  readonly address: string;
  readonly rootToken: string;
  /** Mints a token directly (e.g. the broker's own), outside any ACL. */
  createToken(spec: {
    policies: string[];
    ttlSeconds?: number;
    explicitMaxTtlSeconds?: number;
    namespace?: string;
    renewable?: boolean;
    displayName?: string;
  }): { token: string; accessor: string };
  setPolicy(name: string, policy: SimPolicy): void;
  seal(): void;
  unseal(): void;
  /** The next `count` requests whose path matches `match` (default: any) fail the given way. */
  failNext(count: number, kind: SimFault, match?: RegExp): void;
  /** The next `count` backend revocations (dropping a database user) fail. */
  failBackendRevocations(count: number): void;
  clearFaults(): void;
  /** Stops listening and drops every open connection (the address refuses connections). */
  goOffline(): Promise<void>;
  /** Listens again on the same port. */
  goOnline(): Promise<void>;
  liveLeases(): LeaseView[];
  liveTokens(): TokenView[];
  isLeaseLive(leaseId: string): boolean;
  isTokenLive(token: string): boolean;
  isAccessorLive(accessor: string): boolean;
  isDbUserLive(username: string): boolean;
  /** Every request served so far (method, path relative to /v1, status; 0 for a dropped connection). */
  readonly requests: readonly { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function startVaultSim(options: VaultSimOptions = {}): Promise<VaultSim> {
  const model = createSimModel({
    now: options.now ?? (() => Date.now()),
    policies: options.policies ?? {},
    dbRoles: options.dbRoles ?? {},
    tokenRoles: options.tokenRoles ?? {},
    appRoles: options.appRoles ?? {},
  });
  const routes: SimRoute[] = [...tokenRoutes(model), ...sysRoutes(model)];
  const root = model.createToken({
    namespace: "",
    policies: ["root"],
    displayName: "root",
    meta: null,
    parent: null,
    numUses: 0,
    path: "auth/token/root",
    ttl: 0,
    explicitMaxTtl: 0,
    renewable: false,
  });
  const state = { sealed: false };
  let faults: { kind: SimFault; match: RegExp | undefined; left: number }[] = [];
  const requests: { method: string; path: string; status: number }[] = [];

  function send(res: ServerResponse, status: number, body?: Record<string, unknown>): void {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > MAX_BODY_BYTES) throw new SimHttpError(413, ["request body too large"]);
      chunks.push(buffer);
    }
    const text = Buffer.concat(chunks).toString("utf8").trim();
    if (text === "") return {};
    try {
      const parsed: unknown = JSON.parse(text);
      return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
        ? Object.fromEntries(Object.entries(parsed))
        : {};
    } catch (err) {
      throw new SimHttpError(400, [`failed to parse JSON input: ${(err as Error).message}`]);
    }
  }

  function takeFault(path: string): SimFault | undefined {
    const fault = faults.find((f) => f.left > 0 && (f.match === undefined || f.match.test(path)));
    if (!fault) return undefined;
    fault.left -= 1;
    faults = faults.filter((f) => f.left > 0);
    return fault.kind;
  }

  function authenticate(
    req: IncomingMessage,
    route: SimRoute,
    path: string,
    namespace: string,
  ): SimToken | null {
    if (route.capability === "none") return null;
    const header = req.headers["x-vault-token"];
    const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const presented = (Array.isArray(header) ? header[0] : header) ?? bearer ?? "";
    const caller = model.findToken(namespace, presented);
    if (!caller) throw new SimHttpError(403, [PERMISSION_DENIED]);
    const granted = capabilitiesOn(model.policies, caller.policies, path);
    if (!granted.has(route.capability) || (route.sudo && !granted.has("sudo")))
      throw new SimHttpError(403, [PERMISSION_DENIED]);
    return caller;
  }

  async function serve(req: IncomingMessage, res: ServerResponse, log: { status: number }): Promise<void> {
    const url = new URL(req.url ?? "/", "http://vault-sim");
    const path = url.pathname.replace(/^\/v1\//, "");
    const listing =
      req.method === "LIST" ||
      (req.method === "GET" && ["true", "1"].includes(url.searchParams.get("list") ?? ""));
    const method = listing ? "LIST" : req.method === "PUT" || req.method === "POST" ? "POST" : req.method;
    const namespace = String(req.headers["x-vault-namespace"] ?? "").replace(/^\/+|\/+$/g, "");
    const fault = takeFault(path);
    if (fault === "reset") {
      log.status = 0;
      req.socket.destroy();
      return;
    }
    if (fault === "error500") throw new SimHttpError(500, ["1 error occurred:\n\t* internal error\n\n"]);
    if (fault === "slow") await delay(options.slowMs ?? 2_000);
    if (path === "sys/health" || path === "sys/seal-status") {
      const health = healthReply(state.sealed);
      return send(res, path === "sys/health" ? health.status : 200, health.body);
    }
    if (state.sealed) throw new SimHttpError(503, ["Vault is sealed"]);
    const body = await readBody(req);
    model.sweep();
    const candidates = routes.filter((r) => r.pattern.test(path));
    const route = candidates.find((r) => r.method === method);
    if (!route) {
      if (candidates.length > 0)
        throw new SimHttpError(405, ["1 error occurred:\n\t* unsupported operation\n\n"]);
      throw new SimHttpError(404, [`no handler for route "${path}". route entry not found.`]);
    }
    const caller = authenticate(req, route, path, namespace);
    const afterUse = caller ? model.useToken(caller) : () => {};
    let reply: SimReply;
    try {
      reply = route.handle({ path, match: path.match(route.pattern) ?? [path], body, namespace, caller });
    } finally {
      afterUse();
    }
    log.status = reply.status;
    send(res, reply.status, reply.status === 200 ? reply.body : undefined);
  }

  const server = createServer((req, res) => {
    const log = { method: req.method ?? "", path: (req.url ?? "").replace(/^\/v1\//, ""), status: 0 };
    serve(req, res, log)
      .catch((err: unknown) => {
        const failure = err instanceof SimHttpError ? err : new SimHttpError(500, [(err as Error).message]);
        log.status = failure.status;
        if (!res.headersSent && !res.destroyed) send(res, failure.status, { errors: failure.errors });
      })
      .finally(() => {
        if (log.status === 0 && !req.socket.destroyed) log.status = res.statusCode;
        requests.push(log);
      });
  });
  server.keepAliveTimeout = 5_000;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  let online = true;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const leaseView = (lease: SimLease): LeaseView => ({
    id: lease.id,
    path: lease.path,
    namespace: lease.namespace,
    expiresAt: lease.expireTime,
    ownerAccessor: model.tokens.get(lease.ownerToken)?.accessor,
    dbUser: lease.dbUser,
  });
  const tokenView = (token: SimToken): TokenView => ({
    accessor: token.accessor,
    namespace: token.namespace,
    policies: token.policies,
    displayName: token.displayName,
    meta: token.meta,
    expiresAt: token.expireTime,
    orphan: token.parent === null,
    numUses: token.numUses,
    path: token.path,
  });
  const swept = () => {
    model.sweep();
    return model;
  };

  return {
    address: `http://127.0.0.1:${port}`,
    rootToken: root.id,
    createToken(spec) {
      const token = model.createToken({
        namespace: spec.namespace ?? "",
        policies: [...new Set([...spec.policies, "default"])].sort(),
        displayName: tokenDisplayName(spec.displayName ?? ""),
        meta: null,
        parent: null,
        numUses: 0,
        path: "auth/token/create",
        ttl: spec.ttlSeconds ?? 3600,
        explicitMaxTtl: spec.explicitMaxTtlSeconds ?? 0,
        renewable: spec.renewable ?? true,
      });
      return { token: token.id, accessor: token.accessor };
    },
    setPolicy: (name, policy) => model.policies.set(name, policy),
    seal: () => {
      state.sealed = true;
    },
    unseal: () => {
      state.sealed = false;
    },
    failNext: (count, kind, match) => {
      faults.push({ kind, match, left: count });
    },
    failBackendRevocations: (count) => {
      model.faults.backendRevokeFailures = count;
    },
    clearFaults: () => {
      faults = [];
      model.faults.backendRevokeFailures = 0;
    },
    async goOffline() {
      if (!online) return;
      online = false;
      await stop();
      // Let in-process clients see their keep-alive sockets close (one I/O poll), as a client of a Vault that
      // went away a moment ago would; otherwise the next request races a socket that is already dead.
      for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
    },
    async goOnline() {
      if (online) return;
      await listen(port);
      online = true;
    },
    liveLeases: () => [...swept().leases.values()].map(leaseView),
    liveTokens: () => [...swept().tokens.values()].map(tokenView),
    isLeaseLive: (id) => swept().leases.has(id),
    isTokenLive: (token) => swept().tokens.has(token),
    isAccessorLive: (accessor) => [...swept().tokens.values()].some((t) => t.accessor === accessor),
    isDbUserLive: (username) => swept().dbUsers.has(username),
    requests,
    async close() {
      if (online) await stop();
      online = false;
    },
  };
}
