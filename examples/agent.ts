/**
 * The agent journey with the credbroker client: open a task (or attach to one an orchestrator opened),
 * ask for a credential, wait for a human when a policy requires approval, hand a narrower task to a helper
 * agent, and close the task when the work ends, which revokes everything it holds.
 *
 *   CREDBROKER_URL=http://127.0.0.1:8080 CREDBROKER_TOKEN_FILE=/var/run/secrets/credbroker/token \
 *     npx tsx examples/agent.ts
 *
 * Environment:
 *   CREDBROKER_URL          the broker
 *   CREDBROKER_TOKEN_FILE   this agent's workload token, re-read on every call (Kubernetes rotates it)
 *   CREDBROKER_TASK_ID      optional: work under this task (an orchestrator's) instead of opening one
 *   CREDBROKER_PROFILE      default "tickets-api";  CREDBROKER_SCOPES: space-separated, default "tickets:read"
 *   CREDBROKER_DELEGATE_TO  optional: a helper agent's principal id to delegate a child task to
 *
 * It prints one JSON line per step and never prints a secret. (Outside this repository, import from
 * "credbroker/client".)
 */
import {
  assertionFromFile,
  createBrokerClient,
  isCredbrokerError,
  type TaskHandle,
} from "../src/client/index.js";

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "")
    throw new Error(`set ${name} (see the header of examples/agent.ts)`);
  return value;
}

const say = (event: string, facts: Record<string, unknown>) =>
  console.log(JSON.stringify({ event, ...facts }));

/** The claims of a JWT, to show what the credential allows without printing it. */
function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

async function work(task: TaskHandle): Promise<void> {
  const profile = env("CREDBROKER_PROFILE", "tickets-api");
  const scopes = env("CREDBROKER_SCOPES", "tickets:read").split(" ").filter(Boolean);

  const result = await task.credential(profile, { ttlSeconds: 300, scopes, reason: "list open incidents" });
  if (result.kind === "pending_approval") {
    say("approval_pending", { approval_id: result.approvalId, expires_at: result.expiresAt });
  }
  const credential = result.kind === "pending_approval" ? await result.wait({ timeoutMs: 600_000 }) : result;
  const { sub, aud, scope, exp } = credential.secret.token ? claimsOf(credential.secret.token) : {};
  say("credential", {
    credential_id: credential.credentialId,
    profile: credential.profile,
    expires_at: credential.expiresAt,
    claims: { sub, aud, scope, exp },
  });

  const helper = process.env.CREDBROKER_DELEGATE_TO;
  if (helper) {
    const child = await task.delegate({ agent: helper, profiles: [profile], ttlSeconds: 120 });
    say("delegated", { task_id: child.id, agent: child.info.agent, deadline: child.info.deadline });
  }
}

const broker = createBrokerClient({
  url: env("CREDBROKER_URL"),
  assertion: assertionFromFile(env("CREDBROKER_TOKEN_FILE")),
});

try {
  const taskId = process.env.CREDBROKER_TASK_ID;
  if (taskId) {
    // The orchestrator opened this task for us and closes it when we are done.
    const task = await broker.task(taskId);
    say("task", { task_id: task.id, owner: task.info.owner, deadline: task.info.deadline });
    await work(task);
  } else {
    // Our own task: `await using` closes it when this block ends, also if the work throws.
    await using task = await broker.openTask({
      intent: "Summarise Q3 incidents from the tickets DB",
      ttlSeconds: 900,
      initiator: process.env.CREDBROKER_INITIATOR ?? "alice@example.com",
    });
    say("task", { task_id: task.id, owner: task.info.owner, deadline: task.info.deadline });
    await work(task);
  }
  say("done", {});
} catch (err) {
  if (!isCredbrokerError(err)) throw err;
  say("error", { code: err.code, status: err.status, message: err.message, request_id: err.requestId });
  process.exitCode = 1;
}
