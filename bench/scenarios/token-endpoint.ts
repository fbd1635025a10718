import { z } from "zod";
import { BENCH_AUDIENCE, type BenchBroker } from "../broker.js";
import { api } from "../client.js";
import { type LoadRequest, runLoad } from "../load.js";
import { figure } from "../report.js";
import { mapPool } from "../stats.js";
import { progress, type ScenarioResult } from "./types.js";

const SCENARIO = "1 issuance";
const CONNECTIONS = 32;
const AGENTS = 4;
const TASKS_PER_AGENT = 2;
const TASK_TTL_SECONDS = 3600;

const openedTask = z.object({ task_id: z.string(), task_token: z.string() });

/**
 * Issuance through the OAuth token endpoint (`POST /oauth/token`, JWT-bearer grant with a task token), beside
 * `POST /v1/tasks/{id}/credentials` of the issuance scenario: same broker, same load generator, same
 * number of tasks and connections. Each request verifies the task token, loads the task and then runs the
 * very issuance path of `/v1`.
 */
export async function runTokenEndpoint(
  broker: BenchBroker,
  options: { warmupSeconds: number; durationSeconds: number },
): Promise<ScenarioResult> {
  const agents = Array.from({ length: AGENTS }, (_, i) => `bench-oauth-${i}`);
  const slots = agents.flatMap((agent) => Array.from({ length: TASKS_PER_AGENT }, () => agent));
  const taskTokens = await mapPool(slots, 8, async (agent) => {
    const body = await api(broker, "POST", "/v1/tasks", await broker.token(agent), 201, {
      intent: "credbroker benchmark (token endpoint)",
      ttl_seconds: TASK_TTL_SECONDS,
    });
    return openedTask.parse(body).task_token;
  });
  const requests: LoadRequest[] = taskTokens.map((assertion) => ({
    method: "POST" as const,
    path: "/oauth/token",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion,
      resource: BENCH_AUDIENCE,
      scope: "bench:read",
    }).toString(),
  }));
  progress(
    `token endpoint: ${taskTokens.length} tasks; warm-up ${options.warmupSeconds} s + ${options.durationSeconds} s`,
  );
  const load = await runLoad({
    title: "token-endpoint",
    url: broker.baseUrl,
    requests,
    connections: CONNECTIONS,
    ...options,
  });
  progress(
    `token endpoint: ${load.rps.toFixed(0)} req/s, p99 ${load.latencyMs.p99} ms, non-2xx ${load.non2xx}`,
  );
  const errorNote =
    load.non2xx + load.errors > 0
      ? `answered ${load.non2xx} non-2xx and had ${load.errors} connection errors: ${JSON.stringify(load.statusCodes)}`
      : undefined;
  return {
    figures: [
      figure(
        SCENARIO,
        "issuance.oauth_rps",
        "broker POST /oauth/token (jwt-bearer) req/s",
        load.rps,
        "req/s",
        undefined,
        errorNote,
      ),
      figure(
        SCENARIO,
        "issuance.oauth_p50_ms",
        "token endpoint latency p50 (client)",
        load.latencyMs.p50,
        "ms",
      ),
      figure(
        SCENARIO,
        "issuance.oauth_p99_ms",
        "token endpoint latency p99 (client)",
        load.latencyMs.p99,
        "ms",
      ),
    ],
    details: { connections: CONNECTIONS, tasks: taskTokens.length, load },
  };
}
