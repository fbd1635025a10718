import { CredbrokerError } from "./errors.js";
import { abortableSleep, abortedError } from "./retry.js";
import type { Transport } from "./transport.js";
import type { ApprovalInfo, IssuedCredential } from "./types.js";
import { decodeApproval } from "./wire.js";

/** `pending.wait(…)`. */
export interface WaitOptions {
  /** Stops waiting (rejects with `aborted`); the approval itself stays pending. */
  signal?: AbortSignal;
  /** Gives up after this long (rejects with `approval_timeout`). Default: until the approval ends. */
  timeoutMs?: number;
  /** First delay between two polls; it grows by half each poll. Default 500 ms. */
  initialIntervalMs?: number;
  /** Longest delay between two polls. Default 5 s. */
  maxIntervalMs?: number;
}

const ENDED: Record<string, "approval_denied" | "approval_expired" | "approval_cancelled"> = {
  denied: "approval_denied",
  expired: "approval_expired",
  cancelled: "approval_cancelled",
};

/**
 * A credential request that a policy sent to a human (`202`). `wait()` polls `GET /v1/approvals/{id}`
 * until the approval is decided: once approved, the first read by the requester redeems it and carries the
 * credential, which `wait()` returns.
 */
export class PendingApproval {
  readonly kind = "pending_approval" as const;

  /** @internal Made by `task.credential(…)`. */
  constructor(
    private readonly transport: Transport,
    readonly approvalId: string,
    readonly taskId: string,
    readonly profile: string,
    /** When the approval lapses if nobody decides (RFC 3339). */
    readonly expiresAt: string,
  ) {}

  /**
   * Resolves with the credential once a human approves. Rejects with a {@link CredbrokerError}:
   * `approval_denied` (details: `decided_by`, `comment`), `approval_expired`, `approval_cancelled` (the task
   * closed, or the request or policy changed; details: `note`), `approval_already_redeemed` (another read
   * took the credential), `approval_timeout`, `aborted`, or any API error of the poll.
   */
  async wait(options: WaitOptions = {}): Promise<IssuedCredential> {
    const timeout = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
    const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    const maxIntervalMs = options.maxIntervalMs ?? 5_000;
    let intervalMs = options.initialIntervalMs ?? 500;
    for (;;) {
      const { approval, credential } = await this.poll(signal, options.signal, timeout);
      if (credential) return credential;
      this.throwIfEnded(approval);
      try {
        await abortableSleep(intervalMs, signal);
      } catch (err) {
        throw this.stopped(options.signal, timeout, err);
      }
      intervalMs = Math.min(maxIntervalMs, Math.round(intervalMs * 1.5));
    }
  }

  private async poll(
    signal: AbortSignal | undefined,
    callerSignal: AbortSignal | undefined,
    timeout: AbortSignal | undefined,
  ): Promise<{ approval: ApprovalInfo; credential: IssuedCredential | null }> {
    try {
      const answer = await this.transport.request({
        method: "GET",
        path: `/v1/approvals/${encodeURIComponent(this.approvalId)}`,
        retry: "idempotent",
        signal,
      });
      return decodeApproval(answer.body);
    } catch (err) {
      if (err instanceof CredbrokerError && err.code === "aborted")
        throw this.stopped(callerSignal, timeout, err);
      throw err;
    }
  }

  private throwIfEnded(approval: ApprovalInfo): void {
    const code = ENDED[approval.state];
    if (code) {
      throw new CredbrokerError(code, `The approval ${this.approvalId} was ${approval.state}.`, {
        details: { decided_by: approval.decidedBy, comment: approval.comment, note: approval.note },
      });
    }
    if (approval.state === "approved" && approval.credentialIssued) {
      throw new CredbrokerError(
        "approval_already_redeemed",
        `The credential of approval ${this.approvalId} was already handed out (credential ${approval.credentialId}); ask for a new one.`,
        { details: { credential_id: approval.credentialId } },
      );
    }
  }

  private stopped(
    callerSignal: AbortSignal | undefined,
    timeout: AbortSignal | undefined,
    err: unknown,
  ): unknown {
    if (callerSignal?.aborted) return abortedError(callerSignal);
    if (timeout?.aborted) {
      return new CredbrokerError("approval_timeout", `Still no decision on approval ${this.approvalId}.`, {
        details: { approval_id: this.approvalId },
      });
    }
    return err;
  }
}
