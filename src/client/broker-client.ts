import { type AssertionInput, toAssertionSource } from "./assertion-source.js";
import { type RetryOptions, retryPolicy } from "./retry.js";
import { openTask, TaskHandle } from "./task-handle.js";
import { createTransport, type Transport } from "./transport.js";
import type { ApprovalInfo, IssuedCredential, OpenTaskOptions } from "./types.js";
import { decodeApproval, decodeApprovalList, decodeTask } from "./wire.js";

/** `createBrokerClient(…)`. */
export interface BrokerClientOptions {
  /** The broker's base URL, e.g. `https://credbroker.example.com`. */
  url: string;
  /**
   * The caller's workload assertion: a source asked before every request (`assertionFromFile`,
   * `assertionFromEnv`, `assertionFromFunction`), or a fixed token.
   */
  assertion: AssertionInput;
  /** Per HTTP request. Default 30 s. */
  timeoutMs?: number;
  /** Retries on 429 and 503 with backoff; see {@link RetryOptions}. */
  retry?: RetryOptions;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Default `credbroker-client`. */
  userAgent?: string;
}

/** Decisions on approvals, for approvers (humans' tools, chat bots) the policy lets `Approve`. */
export interface ApprovalsApi {
  /** Pending approvals the caller may decide. */
  listPending(options?: { limit?: number; signal?: AbortSignal }): Promise<ApprovalInfo[]>;
  /**
   * One approval. Read by its requester once approved, it is redeemed: `credential` is then set, exactly
   * once (prefer `PendingApproval.wait()` for that side).
   */
  get(
    approvalId: string,
    options?: { signal?: AbortSignal },
  ): Promise<{ approval: ApprovalInfo; credential: IssuedCredential | null }>;
  approve(approvalId: string, options?: { comment?: string; signal?: AbortSignal }): Promise<ApprovalInfo>;
  deny(approvalId: string, options?: { comment?: string; signal?: AbortSignal }): Promise<ApprovalInfo>;
}

/** The broker, as an agent runtime, an orchestrator or an approver's tool calls it. */
export interface BrokerClient {
  /** The broker URL, without a trailing slash. */
  readonly url: string;
  /**
   * Opens a task; dispose the handle (`await using`) or `close()` it to end the task. Retried on 429 and
   * 503 (nothing was recorded), not after a timeout, so a task is never opened twice unknowingly.
   */
  openTask(options: OpenTaskOptions): Promise<TaskHandle>;
  /** Attaches to an existing task, e.g. one an orchestrator opened for this agent. */
  task(taskId: string, options?: { signal?: AbortSignal }): Promise<TaskHandle>;
  readonly approvals: ApprovalsApi;
}

/**
 * A client for one broker and one identity:
 *
 * ```ts
 * const broker = createBrokerClient({ url, assertion: assertionFromFile("/var/run/secrets/credbroker/token") });
 * await using task = await broker.openTask({ intent: "Summarise Q3 incidents", ttlSeconds: 900 });
 * ```
 */
export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  const transport: Transport = createTransport({
    url: options.url,
    assertion: toAssertionSource(options.assertion),
    timeoutMs: options.timeoutMs ?? 30_000,
    retry: retryPolicy(options.retry),
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    userAgent: options.userAgent ?? "credbroker-client",
  });
  const approvalPath = (id: string, action = "") => `/v1/approvals/${encodeURIComponent(id)}${action}`;

  async function decide(
    approvalId: string,
    outcome: "approve" | "deny",
    decision: { comment?: string; signal?: AbortSignal } = {},
  ): Promise<ApprovalInfo> {
    const answer = await transport.request({
      method: "POST",
      path: approvalPath(approvalId, `/${outcome}`),
      body: decision.comment === undefined ? {} : { comment: decision.comment },
      retry: "at-most-once",
      signal: decision.signal,
    });
    return decodeApproval(answer.body).approval;
  }

  return {
    url: transport.url,
    openTask: (taskOptions) => openTask(transport, taskOptions),
    async task(taskId, taskOptions = {}) {
      const answer = await transport.request({
        method: "GET",
        path: `/v1/tasks/${encodeURIComponent(taskId)}`,
        retry: "idempotent",
        signal: taskOptions.signal,
      });
      return new TaskHandle(transport, decodeTask(answer.body));
    },
    approvals: {
      async listPending(listOptions = {}) {
        const query = listOptions.limit === undefined ? "" : `&limit=${listOptions.limit}`;
        const answer = await transport.request({
          method: "GET",
          path: `/v1/approvals?state=pending${query}`,
          retry: "idempotent",
          signal: listOptions.signal,
        });
        return decodeApprovalList(answer.body);
      },
      async get(approvalId, getOptions = {}) {
        const answer = await transport.request({
          method: "GET",
          path: approvalPath(approvalId),
          retry: "idempotent",
          signal: getOptions.signal,
        });
        return decodeApproval(answer.body);
      },
      approve: (approvalId, decision) => decide(approvalId, "approve", decision),
      deny: (approvalId, decision) => decide(approvalId, "deny", decision),
    },
  };
}
