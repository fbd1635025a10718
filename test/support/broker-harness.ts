import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Broker, type BrokerOptions, type BrokerRole, createBroker } from "../../src/app.js";
import { parseConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/shared/logger.js";
import { type OidcIssuerSim, startOidcIssuerSim } from "../sims/oidc-issuer.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "./redis-keys.js";
import { TEST_POLICY } from "./test-policy.js";

export interface HarnessOptions {
  name: string;
  policy?: string;
  /** Deep-merged over the default test config (top-level sections replaced key by key). */
  config?: Record<string, Record<string, unknown> | unknown[]>;
  role?: BrokerRole;
  /** Reuse an issuer sim (e.g. two brokers sharing one chain). */
  issuer?: OidcIssuerSim;
  prefix?: string;
  env?: Record<string, string>;
  decorateProviders?: BrokerOptions["decorateProviders"];
  /** The broker's clock (default: the system clock); share one with a simulator to move both in time. */
  clock?: BrokerOptions["clock"];
  /** Captures the broker's logs at debug level (instead of following `TEST_LOG_LEVEL`). */
  logDestination?: NodeJS.WritableStream;
  /**
   * The `redis` section without `key_prefix` (e.g. a Sentinel or Cluster the test started), replacing the
   * test Redis; `close()` then leaves the keys to the test, which owns those servers.
   */
  redis?: Record<string, unknown>;
  /** Listen on this port instead of a free one (for a `server.public_url` known before the start). */
  port?: number;
}

export interface Harness {
  broker: Broker;
  issuer: OidcIssuerSim;
  prefix: string;
  baseUrl: string;
  /** A fresh workload token for `ci:<sub>` (aud = the broker's audience). */
  token(sub: string, claims?: Record<string, unknown>): Promise<string>;
  /** fetch against the broker with JSON in and out. */
  call(
    method: string,
    route: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes from the API
  body: any;
  text: string;
}

/** The signing-key encryption key every harness broker shares (replicas must agree on it). */
export const TEST_KEK = randomBytes(32).toString("base64");

/** Starts a whole broker (api + worker) against the real Redis under a prefix of its own. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const issuer = options.issuer ?? (await startOidcIssuerSim());
  const prefix = options.prefix ?? uniquePrefix(options.name);
  const dir = mkdtempSync(path.join(tmpdir(), "credbroker-test-"));
  writeFileSync(path.join(dir, "policy.cedar"), options.policy ?? TEST_POLICY);
  const base: Record<string, Record<string, unknown> | unknown[]> = {
    server: { port: 0, worker_port: 0, audience: "credbroker-test", public_url: "http://127.0.0.1:1" },
    redis: { ...(options.redis ?? { url: TEST_REDIS_URL }), key_prefix: prefix },
    issuers: [{ ...issuer.issuerConfig(), name: "ci", kind: "oidc", jwks_cooldown_seconds: 0 }],
    policy: { files: ["policy.cedar"] },
    profiles: {
      "tickets-api": {
        provider: "signer",
        max_ttl_seconds: 900,
        audience: "https://tickets.internal",
        scopes: ["tickets:read", "tickets:write"],
      },
      "reports-api": {
        provider: "signer",
        max_ttl_seconds: 300,
        audience: "https://reports.internal",
        scopes: [],
      },
    },
    revocation: { backoff_ms: 50, attempts: 3, reconcile_interval_seconds: 1, pending_grace_seconds: 2 },
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(options.config ?? {})) {
    const current = merged[key];
    merged[key] =
      Array.isArray(value) || Array.isArray(current) || typeof current !== "object" || current === null
        ? value
        : { ...current, ...value };
  }
  const config = parseConfig(merged, "test");
  const broker = await createBroker({
    config,
    configDir: dir,
    role: options.role ?? "all",
    logger: options.logDestination
      ? createLogger({ level: "debug", destination: options.logDestination })
      : createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    env: { CREDBROKER_SIGNER_KEK: TEST_KEK, ...options.env },
    decorateProviders: options.decorateProviders,
    clock: options.clock,
  }).catch(async (err: unknown) => {
    if (!options.issuer) await issuer.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const port = broker.app ? await broker.listen(options.port ?? 0, "127.0.0.1") : 0;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    broker,
    issuer,
    prefix,
    baseUrl,
    token: (sub, claims = {}) => issuer.mint({ sub, aud: "credbroker-test", ...claims }),
    async call(method, route, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers };
      if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
      let body: string | undefined;
      if (callOptions.body !== undefined) {
        headers["content-type"] ??= "application/json";
        body = typeof callOptions.body === "string" ? callOptions.body : JSON.stringify(callOptions.body);
      }
      const res = await fetch(`${baseUrl}${route}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = null;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async close() {
      await broker.close();
      if (!options.issuer) await issuer.close();
      if (!options.redis) await deleteByPrefix(TEST_REDIS_URL, prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a truthy value, at most `timeoutMs`; returns that value. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
