import { z } from "zod";
import { BENCH_PROFILE, type BenchBroker } from "./broker.js";

/** What the API calls need of a broker: where it answers and a workload token per agent. */
export type BrokerEndpoint = Pick<BenchBroker, "baseUrl" | "token">;

/** The few response fields the bench reads. */
const taskBody = z.object({ task_id: z.string(), state: z.string() });
const credentialBody = z.object({ credential_id: z.string() });
const revocationBody = z.object({
  revocation_id: z.string(),
  state: z.string(),
  tasks: z.number(),
  credentials: z.number(),
  progress: z
    .object({ revoked: z.number(), expired: z.number(), revoking: z.number(), revoke_failed: z.number() })
    .optional(),
});
export type RevocationBody = z.infer<typeof revocationBody>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

/** JSON call against the broker; throws ApiError unless the status is `expect`. */
export async function api(
  broker: BrokerEndpoint,
  method: string,
  route: string,
  token: string,
  expect: number,
  body?: unknown,
): Promise<unknown> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${broker.baseUrl}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expect) throw new ApiError(res.status, text, `${method} ${route}`);
  return text ? JSON.parse(text) : null;
}

/** Opens a task whose agent is the caller; returns its id. */
export async function openTask(broker: BrokerEndpoint, agent: string, ttlSeconds: number): Promise<string> {
  const token = await broker.token(agent);
  const body = await api(broker, "POST", "/v1/tasks", token, 201, {
    intent: "credbroker benchmark",
    ttl_seconds: ttlSeconds,
    initiator: { subject: "bench@example.com" },
    labels: { bench: "1" },
  });
  return taskBody.parse(body).task_id;
}

export const CREDENTIAL_REQUEST = {
  profile: BENCH_PROFILE,
  ttl_seconds: 300,
  scopes: ["bench:read"],
  reason: "benchmark load",
} as const;

/** Issues one signer credential under the task; returns its id. */
export async function issueCredential(
  broker: BrokerEndpoint,
  agent: string,
  taskId: string,
): Promise<string> {
  const token = await broker.token(agent);
  const body = await api(broker, "POST", `/v1/tasks/${taskId}/credentials`, token, 201, CREDENTIAL_REQUEST);
  return credentialBody.parse(body).credential_id;
}

export async function closeTask(broker: BrokerEndpoint, agent: string, taskId: string): Promise<string> {
  const token = await broker.token(agent);
  const body = await api(broker, "POST", `/v1/tasks/${taskId}/close`, token, 202, { reason: "done" });
  return taskBody.parse(body).state;
}

export async function startRevocation(
  broker: BrokerEndpoint,
  operator: string,
  dryRun = false,
): Promise<RevocationBody> {
  const token = await broker.token(operator);
  const body = await api(broker, "POST", "/v1/admin/revocations", token, 202, {
    selector: { all: true },
    reason: "bench",
    dry_run: dryRun,
  });
  return revocationBody.parse(body);
}

export async function revocationStatus(
  broker: BrokerEndpoint,
  operator: string,
  revocationId: string,
): Promise<RevocationBody> {
  const token = await broker.token(operator);
  const body = await api(broker, "GET", `/v1/admin/revocations/${revocationId}`, token, 200);
  return revocationBody.parse(body);
}
