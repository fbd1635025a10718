import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { stringify as stringifyYaml } from "yaml";
import { credentialKeys } from "../src/credentials/credential-keys.js";
import { freePort } from "../src/dev/dev-redis.js";
import { taskKeys } from "../src/tasks/task-keys.js";
import { type OidcIssuerSim, startOidcIssuerSim } from "../test/sims/oidc-issuer.js";
import { deleteByPrefix, TEST_REDIS_URL } from "../test/support/redis-keys.js";
import { type BenchProcess, brokerArgs, killAll, startProcess, stopProcess } from "./processes.js";

/** Workloads of issuer "ci" may run tasks and get signer credentials; "ci:operator" may revoke and audit. */
export const BENCH_POLICY = `
@id("bench-tasks")
permit (principal is Credbroker::Workload, action in [Credbroker::Action::"OpenTask", Credbroker::Action::"DelegateTask",
  Credbroker::Action::"CloseTask", Credbroker::Action::"ReadTask"], resource is Credbroker::Task)
when { principal.issuer == "ci" };

@id("bench-credentials")
@max_ttl("900")
permit (principal is Credbroker::Workload, action == Credbroker::Action::"RequestCredential", resource)
when { principal.issuer == "ci" };

@id("bench-subscribe")
permit (principal is Credbroker::ResourceServer, action == Credbroker::Action::"SubscribeSignals", resource);

@id("bench-operator")
permit (principal == Credbroker::Workload::"ci:operator", action in [Credbroker::Action::"EmergencyRevoke",
  Credbroker::Action::"ReadAudit"], resource);
`;

export const BENCH_PROFILE = "bench-api";
export const BENCH_AUDIENCE = "https://bench.internal";
export const REDIS_URL = TEST_REDIS_URL;
/** The resource server of BENCH_AUDIENCE (client_secret_basic), which subscribes to security events. */
export const BENCH_RS = { clientId: "bench-rs", secret: randomBytes(24).toString("base64url") };
const WORKLOAD_AUDIENCE = "credbroker-bench";

/**
 * A broker as production runs it: one worker-role process and one or more api-role processes, each
 * `credbroker serve --config <file> --role …` on one config file in a temp dir, all on the real Redis under a
 * key prefix of their own. The OIDC issuer simulator and the load generator stay in the bench process.
 */
export interface BenchBroker {
  prefix: string;
  /** The first api process's URL. */
  baseUrl: string;
  api: BenchProcess;
  worker: BenchProcess;
  /** A connection of the bench's own, for polling state and measuring memory. */
  redis: Redis;
  tasks: ReturnType<typeof taskKeys>;
  credentials: ReturnType<typeof credentialKeys>;
  /** Workload token for `ci:<sub>`, valid for an hour (cached per subject). */
  token(sub: string): Promise<string>;
  /** Another api process on the same config; `redisUrl` points it elsewhere (e.g. a counting proxy). */
  startApi(name: string, options?: { redisUrl?: string }): Promise<BenchProcess>;
  stopApi(proc: BenchProcess): Promise<void>;
}

export const newBenchPrefix = (): string => `bench-${randomBytes(4).toString("hex")}`;

function benchConfig(prefix: string, issuer: OidcIssuerSim, ports: { api: number; worker: number }) {
  return {
    server: {
      port: ports.api,
      worker_port: ports.worker,
      audience: WORKLOAD_AUDIENCE,
      public_url: "http://127.0.0.1:1",
    },
    redis: { url: REDIS_URL, key_prefix: prefix },
    issuers: [{ ...issuer.issuerConfig(), name: "ci", kind: "oidc", jwks_cooldown_seconds: 0 }],
    policy: { files: ["policy.cedar"] },
    profiles: {
      [BENCH_PROFILE]: {
        provider: "signer",
        max_ttl_seconds: 900,
        audience: BENCH_AUDIENCE,
        scopes: ["bench:read", "bench:write"],
      },
    },
    resource_servers: [
      { client_id: BENCH_RS.clientId, secret_env: "CREDBROKER_BENCH_RS_SECRET", audiences: [BENCH_AUDIENCE] },
    ],
    // Raised so the per-principal limit never throttles the load; everything else stays production-like.
    limits: {
      requests_per_minute: 1_000_000_000,
      max_task_ttl_seconds: 86_400,
      open_tasks_per_principal: 1_000_000,
      credentials_per_task: 100_000,
    },
    // A long reconcile interval: deadlines are met by the BullMQ delayed jobs, not the reconciler's sweep.
    revocation: { reconcile_interval_seconds: 60, pending_grace_seconds: 120, backoff_ms: 1000, attempts: 8 },
  };
}

/** State to undo on stop, filled in as the start gets further. */
interface Started {
  issuer?: OidcIssuerSim;
  dir?: string;
  redis?: Redis;
}
const started: Started = {};

export async function startBenchBroker(prefix: string): Promise<BenchBroker> {
  const issuer = await startOidcIssuerSim();
  started.issuer = issuer;
  const dir = mkdtempSync(path.join(tmpdir(), "credbroker-bench-"));
  started.dir = dir;
  const ports = { api: await freePort(), worker: await freePort() };
  const configFile = path.join(dir, "credbroker.yaml");
  writeFileSync(path.join(dir, "policy.cedar"), BENCH_POLICY);
  writeFileSync(configFile, stringifyYaml(benchConfig(prefix, issuer, ports)));
  // Secrets reach the processes by env only (never the config file), shared as replicas must share them.
  const secrets = {
    CREDBROKER_SIGNER_KEK: randomBytes(32).toString("base64"),
    CREDBROKER_AUDIT_HMAC_KEY: randomBytes(32).toString("base64"),
    CREDBROKER_BENCH_RS_SECRET: BENCH_RS.secret,
  };
  const worker = await startProcess({
    name: "worker",
    port: ports.worker,
    args: brokerArgs(configFile, "worker"),
    env: secrets,
  });
  const startApi = async (name: string, options: { redisUrl?: string } = {}, fixedPort?: number) => {
    const port = fixedPort ?? (await freePort());
    const env: Record<string, string> = { ...secrets, CREDBROKER_PORT: String(port) };
    if (options.redisUrl) env.REDIS_URL = options.redisUrl;
    return startProcess({ name, port, args: brokerArgs(configFile, "api"), env });
  };
  const api = await startApi("api-1", {}, ports.api);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  started.redis = redis;
  const tokens = new Map<string, Promise<string>>();
  return {
    prefix,
    baseUrl: api.url,
    api,
    worker,
    redis,
    tasks: taskKeys(prefix),
    credentials: credentialKeys(prefix),
    token(sub) {
      let token = tokens.get(sub);
      if (token === undefined) {
        token = issuer.mint({ sub, aud: WORKLOAD_AUDIENCE }, { expiresInSeconds: 3600 });
        tokens.set(sub, token);
      }
      return token;
    },
    startApi: (name, options) => startApi(name, options),
    stopApi: stopProcess,
  };
}

const logFailure = (what: string) => (err: unknown) => console.error(`[bench] ${what}: ${String(err)}`);

/**
 * Stops every broker process, the issuer sim and the bench's connection, then deletes every key under the
 * prefix and the temp dir; never throws (logs instead). Safe after a partial start.
 */
export async function stopBenchBroker(prefix: string): Promise<void> {
  // The processes first, so no worker writes keys after they are deleted.
  await killAll().catch(logFailure("stopping the broker processes failed"));
  await started.issuer?.close().catch(logFailure("closing the issuer sim failed"));
  started.redis?.disconnect();
  if (started.dir) rmSync(started.dir, { recursive: true, force: true });
  await deleteByPrefix(REDIS_URL, prefix).catch(logFailure(`could not delete keys under ${prefix}`));
}

/** Counts keys still under the prefix (used to confirm cleanup). */
export async function countKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = "0";
    let count = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      count += keys.length;
    } while (cursor !== "0");
    return count;
  } finally {
    redis.disconnect();
  }
}
