import "./dispose-polyfill.js";
import { PendingApproval } from "./pending-approval.js";
import type { Transport } from "./transport.js";
import type {
  CredentialRequestOptions,
  DelegateOptions,
  IssuedCredential,
  OpenTaskOptions,
  TaskInfo,
} from "./types.js";
import { decodeIssued, decodePending, decodeTask } from "./wire.js";

/** What `task.credential(…)` resolves to: the credential, or an approval to wait for. */
export type CredentialResult = IssuedCredential | PendingApproval;

/** `task.close(…)`. */
export interface CloseOptions {
  reason?: string;
  signal?: AbortSignal;
}

/**
 * One task, opened or attached by this client. Disposing it (`await using task = …`) closes the task,
 * which revokes every credential of the task tree, when the scope ends, also when it ends by a throw.
 */
export class TaskHandle implements AsyncDisposable {
  #info: TaskInfo;
  #closed = false;

  /** @internal Made by `broker.openTask`, `broker.task` and `task.delegate`. */
  constructor(
    private readonly transport: Transport,
    info: TaskInfo,
  ) {
    this.#info = info;
  }

  /** The task id (`tsk_…`): hand it to the agent that works on the task. */
  get id(): string {
    return this.#info.taskId;
  }

  /** The task as last read from the broker (see {@link refresh}). */
  get info(): TaskInfo {
    return this.#info;
  }

  /**
   * Asks for a credential of `profile` under this task (only the task's agent may). Resolves with the
   * credential, or with a {@link PendingApproval} when a policy requires a human's approval first:
   *
   * ```ts
   * const result = await task.credential("tickets-api", { scopes: ["tickets:read"], reason: "list incidents" });
   * const credential = result.kind === "pending_approval" ? await result.wait() : result;
   * ```
   *
   * Never retried once the request may have reached the broker (only after a 429 or a connection that was
   * never made): a repeat could issue a second secret. On a `503`, a timeout or a network error, read the
   * task (`refresh()`) to see what was issued before asking again.
   */
  async credential(profile: string, options: CredentialRequestOptions = {}): Promise<CredentialResult> {
    const answer = await this.transport.request({
      method: "POST",
      path: `/v1/tasks/${encodeURIComponent(this.id)}/credentials`,
      body: {
        profile,
        ...(options.ttlSeconds === undefined ? {} : { ttl_seconds: options.ttlSeconds }),
        ...(options.scopes === undefined ? {} : { scopes: options.scopes }),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      },
      retry: "issues-credential",
      signal: options.signal,
    });
    if (answer.status === 202) {
      const pending = decodePending(answer.body);
      return new PendingApproval(this.transport, pending.approvalId, this.id, profile, pending.expiresAt);
    }
    return decodeIssued(answer.body);
  }

  /**
   * Opens a child task for another agent (`parent_task_id` = this task). The broker keeps it narrower
   * than this task: profiles a subset, deadline no later, depth limited. Closing this task closes it too.
   */
  async delegate(options: DelegateOptions): Promise<TaskHandle> {
    return openTask(
      this.transport,
      {
        intent: options.intent ?? this.#info.intent,
        ttlSeconds: options.ttlSeconds,
        agent: options.agent,
        ...(options.profiles === undefined ? {} : { profiles: options.profiles }),
        ...(options.labels === undefined ? {} : { labels: options.labels }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
      this.id,
    );
  }

  /** Reads the task again: its state, credentials and children. */
  async refresh(options: { signal?: AbortSignal } = {}): Promise<TaskInfo> {
    const answer = await this.transport.request({
      method: "GET",
      path: `/v1/tasks/${encodeURIComponent(this.id)}`,
      retry: "idempotent",
      signal: options.signal,
    });
    this.#info = decodeTask(answer.body);
    return this.#info;
  }

  /**
   * Ends the task: the broker revokes every credential of it and of its descendants. Idempotent, and so
   * retried freely; the answer shows `closing` until every credential is revoked, then `closed`.
   */
  async close(options: CloseOptions = {}): Promise<TaskInfo> {
    const answer = await this.transport.request({
      method: "POST",
      path: `/v1/tasks/${encodeURIComponent(this.id)}/close`,
      body: options.reason === undefined ? {} : { reason: options.reason },
      retry: "idempotent",
      signal: options.signal,
    });
    this.#closed = true;
    this.#info = decodeTask(answer.body);
    return this.#info;
  }

  /** Closes the task unless {@link close} already did (the end of an `await using` scope). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#closed) await this.close({ reason: "scope ended" });
  }
}

/** `POST /v1/tasks`, for root tasks and (with `parentTaskId`) delegations. */
export async function openTask(
  transport: Transport,
  options: OpenTaskOptions,
  parentTaskId?: string,
): Promise<TaskHandle> {
  const initiator =
    typeof options.initiator === "string" ? { subject: options.initiator } : options.initiator;
  const answer = await transport.request({
    method: "POST",
    path: "/v1/tasks",
    body: {
      intent: options.intent,
      ttl_seconds: options.ttlSeconds,
      ...(initiator === undefined ? {} : { initiator }),
      ...(options.agent === undefined ? {} : { agent: options.agent }),
      ...(parentTaskId === undefined ? {} : { parent_task_id: parentTaskId }),
      ...(options.profiles === undefined ? {} : { profiles: options.profiles }),
      ...(options.labels === undefined ? {} : { labels: options.labels }),
    },
    retry: "at-most-once",
    signal: options.signal,
  });
  return new TaskHandle(transport, decodeTask(answer.body));
}
