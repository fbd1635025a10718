/**
 * The orchestrator journey with the credbroker client: open a task on behalf of a human for an agent,
 * start the agent with the task id, and close the task when the agent ends, however it ends: closing
 * revokes every credential the agent (and any helper it delegated to) obtained.
 *
 *   CREDBROKER_URL=http://127.0.0.1:8080 CREDBROKER_TOKEN_FILE=/var/run/secrets/credbroker/token \
 *   CREDBROKER_AGENT=k8s:system:serviceaccount:agents:summariser CREDBROKER_AGENT_TOKEN_FILE=/tmp/agent.jwt \
 *     npx tsx examples/orchestrator.ts
 *
 * Environment:
 *   CREDBROKER_URL               the broker
 *   CREDBROKER_TOKEN_FILE        the orchestrator's workload token, re-read on every call
 *   CREDBROKER_AGENT             the agent's principal id (`<issuer name>:<sub>`)
 *   CREDBROKER_AGENT_TOKEN_FILE  the agent's own token file, handed to the agent process it starts (in
 *                                Kubernetes the agent's pod would mount its own projected token instead)
 *   CREDBROKER_INITIATOR         the human the work is for, default "alice@example.com"
 *
 * The agent is examples/agent.ts, started as a child process with CREDBROKER_TASK_ID set.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { assertionFromFile, createBrokerClient, isCredbrokerError } from "../src/client/index.js";

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "")
    throw new Error(`set ${name} (see the header of examples/orchestrator.ts)`);
  return value;
}

const say = (event: string, facts: Record<string, unknown>) =>
  console.log(JSON.stringify({ event, ...facts }));

/** Runs the agent with the task id and its own token; resolves with its exit code. */
function runAgent(taskId: string): Promise<number> {
  const script = fileURLToPath(new URL("./agent.ts", import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, script], {
    env: {
      ...process.env,
      CREDBROKER_TASK_ID: taskId,
      CREDBROKER_TOKEN_FILE: env("CREDBROKER_AGENT_TOKEN_FILE"),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

const broker = createBrokerClient({
  url: env("CREDBROKER_URL"),
  assertion: assertionFromFile(env("CREDBROKER_TOKEN_FILE")),
});

try {
  let taskId: string;
  {
    await using task = await broker.openTask({
      intent: "Summarise Q3 incidents from the tickets DB",
      ttlSeconds: 900,
      initiator: env("CREDBROKER_INITIATOR", "alice@example.com"),
      agent: env("CREDBROKER_AGENT"),
      profiles: ["tickets-api"],
      labels: { ticket: "INC-42" },
    });
    taskId = task.id;
    say("task_opened", { task_id: task.id, agent: task.info.agent, deadline: task.info.deadline });
    const code = await runAgent(task.id);
    say("agent_exited", { code });
    if (code !== 0) process.exitCode = code;
  }
  // The scope has ended: the task is closed and its credentials are being revoked.
  const after = await broker.task(taskId);
  say("task_closed", {
    task_id: after.id,
    state: after.info.state,
    credentials: after.info.credentials.map((c) => ({ credential_id: c.credentialId, state: c.state })),
  });
} catch (err) {
  if (!isCredbrokerError(err)) throw err;
  say("error", { code: err.code, status: err.status, message: err.message, request_id: err.requestId });
  process.exitCode = 1;
}
