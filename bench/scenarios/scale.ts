/**
 * `npm run bench -- --scale`: the periodic and bulk paths at a large population (issue 13). One broker
 * (api + worker roles) on a redis-server of its own, so INFO commandstats counts only this broker. Tasks are
 * opened through the API; their signer credentials are recorded through the credential store's own
 * createPending + activate (the handle a real issuance would record), without minting JWTs. Reports the
 * reconciler pass, idle Redis load, admin listing, audit verify and an emergency revocation of everything,
 * counted at the provider side (the signer deny-list). Every key is deleted and the server stopped at the end.
 */
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { z } from "zod";
import { signerRedisKeys } from "../../providers/signer/signer-redis-keys.js";
import { auditKeys } from "../../src/audit/audit-keys.js";
import { createAuditLog } from "../../src/audit/audit-log.js";
import { credentialKeys } from "../../src/credentials/credential-keys.js";
import { createCredentialStore } from "../../src/credentials/credential-store.js";
import { systemClock } from "../../src/shared/clock.js";
import { newId } from "../../src/shared/ids.js";
import { taskKeys } from "../../src/tasks/task-keys.js";
import { type Harness, startHarness } from "../../test/support/broker-harness.js";
import { pendingCredential } from "../../test/support/credential-fixture.js";
import { countCommands } from "../../test/support/redis-commands.js";
import { deleteByPrefix } from "../../test/support/redis-keys.js";
import { type StandaloneRedis, startStandalone } from "../../test/support/redis-servers.js";
import { BENCH_POLICY, BENCH_PROFILE, type BenchBroker, newBenchPrefix } from "../broker.js";
import { api, openTask, revocationStatus, startRevocation } from "../client.js";
import { environment, type Figure, figure, renderTable, writeResults } from "../report.js";
import { mapPool, percentileSorted, since, sleep } from "../stats.js";
import { progress } from "./types.js";

const SCENARIO = "6 scale";
const RESULTS_FILE = fileURLToPath(new URL("../results-scale.json", import.meta.url));
const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  return raw !== undefined && raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : fallback;
};
const PLAN = {
  credentials: num("BENCH_SCALE_CREDENTIALS", 100_000),
  perTask: num("BENCH_SCALE_PER_TASK", 50),
  idleSeconds: num("BENCH_SCALE_IDLE_SECONDS", 30),
  auditEvents: num("BENCH_SCALE_AUDIT_EVENTS", 1_000_000),
  reconcileIntervalSeconds: 10,
};
const AGENTS = 8;
const median = (samples: readonly number[]): number =>
  percentileSorted(
    [...samples].sort((a, c) => a - c),
    0.5,
  );
const OPERATOR = "operator";

/** The scale run's broker: one in-process broker (api and worker roles) on a Redis server of the run's own. */
interface ScaleBroker
  extends Pick<BenchBroker, "prefix" | "baseUrl" | "redis" | "tasks" | "credentials" | "token"> {
  harness: Harness;
}

async function startScaleBroker(server: StandaloneRedis, prefix: string): Promise<ScaleBroker> {
  const harness = await startHarness({
    name: "bench-scale",
    prefix,
    policy: BENCH_POLICY,
    redis: { url: server.url },
    config: {
      profiles: {
        [BENCH_PROFILE]: {
          provider: "signer",
          max_ttl_seconds: 3600,
          audience: "https://bench.internal",
          scopes: [],
        },
      },
      limits: {
        requests_per_minute: 1_000_000_000,
        max_task_ttl_seconds: 86_400,
        open_tasks_per_principal: 1_000_000,
        credentials_per_task: 100_000,
      },
      revocation: {
        reconcile_interval_seconds: PLAN.reconcileIntervalSeconds,
        pending_grace_seconds: 120,
        backoff_ms: 1000,
        attempts: 8,
      },
    },
  });
  const redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
  const tokens = new Map<string, Promise<string>>();
  return {
    harness,
    prefix,
    baseUrl: harness.baseUrl,
    redis,
    tasks: taskKeys(prefix),
    credentials: credentialKeys(prefix),
    token(sub) {
      let token = tokens.get(sub);
      if (token === undefined) {
        token = harness.issuer.mint({ sub, aud: "credbroker-test" }, { expiresInSeconds: 3600 });
        tokens.set(sub, token);
      }
      return token;
    },
  };
}

interface ScalePopulation {
  taskIds: string[];
  credentialIds: string[];
}

/** Tasks through the API; credentials through the credential store (pending, then active with a signer handle). */
async function populate(b: ScaleBroker): Promise<ScalePopulation> {
  const started = performance.now();
  const taskCount = Math.ceil(PLAN.credentials / PLAN.perTask);
  const agents = Array.from({ length: taskCount }, (_, i) => `bench-fleet-${i % AGENTS}`);
  const taskIds = await mapPool(agents, 16, (agent) => openTask(b, agent, 7200));
  progress(
    `scale: ${taskIds.length} tasks opened through the API in ${(since(started) / 1000).toFixed(1)} s`,
  );
  const store = createCredentialStore({ redis: b.redis, keyPrefix: b.prefix, now: () => Date.now() });
  const kid = (await b.redis.get(signerRedisKeys(b.prefix).current)) ?? "";
  const slots = Array.from({ length: PLAN.credentials }, (_, i) => i);
  const credentialIds = await mapPool(slots, 256, async (i) => {
    const taskId = taskIds[Math.floor(i / PLAN.perTask)] ?? "";
    const now = Date.now();
    const credential = pendingCredential({
      id: newId("crd"),
      taskId,
      agent: `ci:bench-fleet-${Math.floor(i / PLAN.perTask) % AGENTS}`,
      profile: BENCH_PROFILE,
      provider: "signer",
      ttlSeconds: 3600,
      createdAt: now,
    });
    if ((await store.createPending(credential, now)) !== "ok")
      throw new Error(`task ${taskId} refused a credential`);
    const exp = Math.floor(now / 1000) + 3600;
    await store.activate(credential, {
      handle: `${exp}.${kid}`,
      expiresAt: exp * 1000,
      downstreamAccount: credential.agent,
      issuedAt: now,
    });
    return credential.id;
  });
  progress(`scale: ${credentialIds.length} credentials recorded in ${(since(started) / 1000).toFixed(1)} s`);
  return { taskIds, credentialIds };
}

async function timed(runs: number, call: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await call();
    samples.push(since(started));
  }
  return samples;
}

async function measureIdle(b: ScaleBroker, figures: Figure[], details: Record<string, unknown>) {
  const worker = b.harness.broker.worker;
  if (!worker) throw new Error("the scale broker has no worker role");
  const passes = [];
  for (let i = 0; i < 3; i++) passes.push(await countCommands(b.redis, () => worker.reconcileNow()));
  const passMs = median(passes.map((p) => p.ms));
  const passCommands = median(passes.map((p) => p.commands));
  progress(`scale: reconciler pass ${passMs.toFixed(0)} ms, ${passCommands} commands`);
  const idle = await countCommands(b.redis, () => sleep(PLAN.idleSeconds * 1000));
  const perSecond = idle.commands / PLAN.idleSeconds;
  progress(`scale: idle ${perSecond.toFixed(1)} commands/s over ${PLAN.idleSeconds} s`);
  figures.push(
    figure(SCENARIO, "scale.reconcile_ms", "reconciler pass (median of 3)", passMs, "ms", {
      op: "<=",
      value: 100,
    }),
    figure(SCENARIO, "scale.reconcile_commands", "Redis commands per reconciler pass", passCommands, "", {
      op: "<=",
      value: 1000,
    }),
    figure(
      SCENARIO,
      "scale.idle_commands_per_s",
      `idle Redis load over ${PLAN.idleSeconds} s`,
      perSecond,
      "/s",
    ),
  );
  details.reconcile = passes.map((p) => ({ ms: p.ms, commands: p.commands, report: p.value }));
  details.idle = { seconds: PLAN.idleSeconds, commands: idle.commands };
}

async function measureReads(b: ScaleBroker, figures: Figure[], details: Record<string, unknown>) {
  const token = await b.token(OPERATOR);
  const listing = await timed(5, () => api(b, "GET", "/v1/admin/tasks?limit=100", token, 200));
  const verify = await countCommands(b.redis, () => api(b, "GET", "/v1/audit/verify", token, 200));
  progress(`scale: admin listing ${median(listing).toFixed(0)} ms; audit verify ${verify.ms.toFixed(0)} ms`);
  figures.push(
    figure(
      SCENARIO,
      "scale.admin_tasks_ms",
      `GET /v1/admin/tasks?limit=100 (${PLAN.perTask} credentials each)`,
      median(listing),
      "ms",
    ),
    figure(SCENARIO, "scale.audit_verify_ms", "GET /v1/audit/verify", verify.ms, "ms", {
      op: "<=",
      value: 2000,
    }),
  );
  details.admin_tasks_ms = listing;
  details.audit_verify = { ms: verify.ms, commands: verify.commands, body: verify.value };
}

/** Deny-list entries of the population: how many exist, and the latest revocation time recorded in one. */
async function denied(b: ScaleBroker, ids: string[]): Promise<{ count: number; latest: number }> {
  const keys = signerRedisKeys(b.prefix);
  let count = 0;
  let latest = 0;
  for (let i = 0; i < ids.length; i += 5_000) {
    const pipeline = b.redis.pipeline();
    for (const id of ids.slice(i, i + 5_000)) pipeline.get(keys.deny(id));
    for (const [, value] of (await pipeline.exec()) ?? []) {
      if (typeof value !== "string") continue;
      count++;
      latest = Math.max(latest, Number(value));
    }
  }
  return { count, latest };
}

async function measureEmergency(
  b: ScaleBroker,
  population: ScalePopulation,
  figures: Figure[],
  details: Record<string, unknown>,
) {
  const dry = await timed(1, () => startRevocation(b, OPERATOR, true));
  const wallStart = Date.now();
  const started = performance.now();
  const accepted = await startRevocation(b, OPERATOR);
  const acceptedMs = since(started);
  progress(
    `scale: emergency 202 after ${acceptedMs.toFixed(0)} ms (${accepted.tasks} tasks, ${accepted.credentials} credentials)`,
  );
  const getMs: number[] = [];
  let status = accepted;
  while (status.state === "running") {
    if (since(started) > 600_000) throw new Error("emergency revocation not completed after 600 s");
    await sleep(100);
    const at = performance.now();
    status = await revocationStatus(b, OPERATOR, accepted.revocation_id);
    getMs.push(since(at));
  }
  const completedMs = since(started);
  const provider = await denied(b, population.credentialIds);
  const revokedMs = provider.latest - wallStart;
  progress(
    `scale: ${status.state} after ${completedMs.toFixed(0)} ms; deny-list holds ${provider.count}/${population.credentialIds.length}, the last written ${revokedMs} ms after the POST`,
  );
  figures.push(
    figure(SCENARIO, "scale.emergency_dry_run_ms", "emergency dry run -> 202", dry[0] ?? Number.NaN, "ms"),
    figure(SCENARIO, "scale.emergency_accepted_ms", "emergency POST -> 202", acceptedMs, "ms", {
      op: "<=",
      value: 1000,
    }),
    figure(
      SCENARIO,
      "scale.emergency_revoked_ms",
      "POST -> every credential deny-listed (provider side)",
      revokedMs,
      "ms",
      {
        op: "<=",
        value: 10_000,
      },
    ),
    figure(SCENARIO, "scale.emergency_completed_ms", "POST -> status GET says completed", completedMs, "ms"),
    figure(SCENARIO, "scale.emergency_get_ms", `status GET, median of ${getMs.length}`, median(getMs), "ms", {
      op: "<=",
      value: 50,
    }),
    figure(SCENARIO, "scale.emergency_get_max_ms", "status GET, slowest", Math.max(...getMs), "ms"),
    figure(SCENARIO, "scale.emergency_denied", "credentials deny-listed at the signer", provider.count, "", {
      op: ">=",
      value: population.credentialIds.length,
    }),
  );
  details.emergency = { accepted, final_status: status, get_ms: getMs, provider };
}

/**
 * Grows the audit chain to PLAN.auditEvents through the audit log's own append (as another replica would;
 * the broker's sealer signs checkpoints meanwhile), then times `GET /v1/audit/verify` (past
 * `verify_full_up_to_events`: since the newest checkpoint) and the full walk as a job.
 */
async function measureAudit(b: ScaleBroker, figures: Figure[], details: Record<string, unknown>) {
  const started = performance.now();
  const log = createAuditLog({ redis: b.redis, keyPrefix: b.prefix, clock: systemClock });
  const have = (await log.head())?.seq ?? 0;
  const missing = Math.max(0, PLAN.auditEvents - have);
  await mapPool(
    Array.from({ length: missing }, (_, i) => i),
    1024,
    async (i) => {
      await log.append({
        type: "task.opened",
        actor: "ci:bench",
        task_id: `tsk_bench${i % 1000}`,
        details: { agent: "ci:bench", parent_task_id: null, deadline: 0, depth: 0 },
      });
    },
  );
  progress(`scale: audit chain grown by ${missing} events in ${(since(started) / 1000).toFixed(1)} s`);
  const token = await b.token(OPERATOR);
  const headSeq = (await log.head())?.seq ?? 0;
  const checkpoints = auditKeys(b.prefix).checkpoints;
  // The sealer signs within a few seconds of the last append.
  for (let waited = 0; waited < 30_000; waited += 250) {
    const [newest] = await b.redis.zrange(checkpoints, "-1", "-1");
    if (newest && JSON.parse(newest).seq >= headSeq - 1000) break;
    await sleep(250);
  }
  const verifyMs = await timed(3, () => api(b, "GET", "/v1/audit/verify", token, 200));
  const answer = await api(b, "GET", "/v1/audit/verify", token, 200);
  const fullStart = performance.now();
  const run = z
    .object({ verification_id: z.string() })
    .parse(await api(b, "POST", "/v1/audit/verifications", token, 202, {}));
  let full: unknown = null;
  while (since(fullStart) < 600_000) {
    await sleep(500);
    const read = z
      .object({ state: z.string(), result: z.unknown() })
      .parse(await api(b, "GET", `/v1/audit/verifications/${run.verification_id}`, token, 200));
    if (read.state === "completed") {
      full = read.result;
      break;
    }
  }
  const fullMs = since(fullStart);
  progress(
    `scale: verify at ${headSeq} events: GET ${median(verifyMs).toFixed(0)} ms; full walk job ${(fullMs / 1000).toFixed(1)} s`,
  );
  figures.push(
    figure(
      SCENARIO,
      "scale.audit_verify_since_ms",
      `GET /v1/audit/verify at ${headSeq} events (since the newest checkpoint)`,
      median(verifyMs),
      "ms",
      { op: "<=", value: 2000 },
    ),
    figure(
      SCENARIO,
      "scale.audit_verify_full_ms",
      `full walk as a job at ${headSeq} events (POST -> completed)`,
      fullMs,
      "ms",
    ),
  );
  details.audit = { events: headSeq, verify_ms: verifyMs, answer, full_ms: fullMs, full_result: full };
}

/** Runs the scale scenario; returns the process exit code. */
export async function runScaleBench(): Promise<number> {
  const figures: Figure[] = [];
  const details: Record<string, unknown> = { plan: PLAN };
  const errors: { scenario: string; error: string }[] = [];
  const server = await startStandalone();
  const prefix = newBenchPrefix();
  let broker: ScaleBroker | undefined;
  // The server is the bench's own: stopping it (here or at the end) takes every key with it.
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => void server.stop().finally(() => process.exit(130)));
  let redisVersion = "unknown";
  let keysLeft = -1;
  try {
    broker = await startScaleBroker(server, prefix);
    redisVersion = /redis_version:(\S+)/.exec(await broker.redis.info("server"))?.[1] ?? "unknown";
    const population = await populate(broker);
    await measureIdle(broker, figures, details);
    await measureReads(broker, figures, details);
    await measureEmergency(broker, population, figures, details);
    if (PLAN.auditEvents > 0) await measureAudit(broker, figures, details);
  } catch (err) {
    progress(`scale FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    errors.push({ scenario: SCENARIO, error: err instanceof Error ? err.message : String(err) });
  } finally {
    const check = new Redis(server.url);
    await broker?.harness.close().catch(() => undefined);
    broker?.redis.disconnect();
    await deleteByPrefix(server.url, prefix).catch(() => undefined);
    keysLeft = (await check.dbsize().catch(() => -1)) as number;
    check.disconnect();
    await server.stop();
  }
  details.cleanup = { prefix, keys_left: keysLeft };
  const env = environment(redisVersion, server.url, loadavg());
  process.stdout.write(`\n${renderTable(figures, errors, [`keys left after cleanup: ${keysLeft}`])}\n`);
  writeResults(RESULTS_FILE, env, figures, errors, details);
  return errors.length > 0 ? 1 : 0;
}
