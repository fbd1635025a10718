import { freePort } from "../../src/dev/dev-redis.js";
import { BENCH_AUDIENCE, type BenchBroker } from "../broker.js";
import { CREDENTIAL_REQUEST, openTask } from "../client.js";
import type { LoadRequest } from "../load.js";
import { type BenchProcess, scriptArgs, startProcess } from "../processes.js";
import { mapPool } from "../stats.js";

/** The issuance load every issuance scenario drives: 32 connections over 8 tasks of 4 agents. */
export const CONNECTIONS = 32;
const AGENTS = 4;
const TASKS_PER_AGENT = 2;
/** Long enough to outlive the run; a task holds as many credentials as it is asked for. */
const TASK_TTL_SECONDS = 3600;

export interface IssuanceLoad {
  requests: LoadRequest[];
  tasks: number;
  agents: number;
}

/** Opens the tasks and builds the `POST /v1/tasks/{id}/credentials` requests the load cycles through. */
export async function prepareIssuance(broker: BenchBroker): Promise<IssuanceLoad> {
  const agents = Array.from({ length: AGENTS }, (_, i) => `bench-issuer-${i}`);
  const slots = agents.flatMap((agent) => Array.from({ length: TASKS_PER_AGENT }, () => agent));
  const taskIds = await mapPool(slots, 8, (agent) => openTask(broker, agent, TASK_TTL_SECONDS));
  const body = JSON.stringify(CREDENTIAL_REQUEST);
  const requests: LoadRequest[] = await Promise.all(
    taskIds.map(async (taskId, i) => ({
      method: "POST" as const,
      path: `/v1/tasks/${taskId}/credentials`,
      headers: {
        authorization: `Bearer ${await broker.token(slots[i]!)}`,
        "content-type": "application/json",
      },
      body,
    })),
  );
  return { requests, tasks: taskIds.length, agents: AGENTS };
}

/** The bare Express + jose baseline (bench/baseline.ts) in a process of its own. */
export async function startBaselineProcess(): Promise<BenchProcess> {
  const port = await freePort();
  return startProcess({
    name: "baseline",
    port,
    args: scriptArgs(
      "./baseline-main.ts",
      String(port),
      "http://127.0.0.1:1",
      BENCH_AUDIENCE,
      "ci:bench-issuer-0",
    ),
  });
}

/** `value / count`, NaN when nothing was counted. */
export const per = (value: number, count: number): number => (count > 0 ? value / count : Number.NaN);
