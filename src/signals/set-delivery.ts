import type { JWTPayload } from "jose";
import type { BrokerMetrics } from "../metrics/broker-metrics.js";
import { discardBody, readBoundedText } from "../shared/bounded-body.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { PollStore } from "./poll-store.js";
import { SET_TYP } from "./set-claims.js";
import type { StreamStore } from "./stream-store.js";

/** The RFC 8935 §2.2 media type of a pushed SET. */
export const SET_MEDIA_TYPE = "application/secevent+jwt";

export interface DeliveryAttempt {
  /** Attempts already made before this one. */
  made: number;
  max: number;
}

/**
 * Pushes one SET (RFC 8935 §2): signs the queued claims with the signer's current key (`typ:
 * secevent+jwt`), POSTs them to the stream's endpoint and expects 202. A 400 (the receiver refused the SET,
 * §2.4) is not retried; anything else throws so the queue retries with backoff. Every failure is counted
 * on the stream's status; a SET for a deleted or disabled stream is dropped. For a poll stream (RFC 8936)
 * the signed SET is kept for the receiver's next poll instead.
 */
export function createSetDelivery(deps: {
  streams: Pick<StreamStore, "get" | "recordDelivered" | "recordFailure">;
  polls: Pick<PollStore, "put">;
  signer: { signJwt(claims: JWTPayload, typ: string): Promise<string> };
  metrics: Pick<BrokerMetrics, "signalDeliveries">;
  clock: Clock;
  logger: Logger;
  timeoutMs: number;
}) {
  async function fail(streamId: string, message: string, last: boolean): Promise<void> {
    deps.metrics.signalDeliveries.inc({ outcome: last ? "dropped" : "retry" });
    await deps.streams.recordFailure(streamId, message, deps.clock.now(), last);
    deps.logger.warn({ stream_id: streamId, error: message, given_up: last }, "SET push failed");
  }

  async function push(endpoint: string, set: string): Promise<{ status: number; error?: string }> {
    try {
      const res = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": SET_MEDIA_TYPE, accept: "application/json" },
        body: set,
        redirect: "manual",
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
      if (res.status === 400) return { status: 400, error: await receiverError(res, endpoint) };
      await discardBody(res);
      return { status: res.status };
    } catch (err) {
      return { status: 0, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async function hold(streamId: string, claims: JWTPayload, set: string): Promise<void> {
    const now = deps.clock.now();
    const dropped = await deps.polls.put(streamId, String(claims.jti), set, now);
    deps.metrics.signalDeliveries.inc({ outcome: "held" });
    await deps.streams.recordDelivered(streamId, now);
    for (let i = 0; i < dropped; i += 1) {
      await fail(streamId, "the poll stream held too many unacknowledged SETs; the oldest was dropped", true);
    }
  }

  return async (job: { streamId: string; claims: JWTPayload }, attempt: DeliveryAttempt): Promise<void> => {
    const stream = await deps.streams.get(job.streamId);
    if (stream === null || stream.status !== "enabled") {
      deps.metrics.signalDeliveries.inc({ outcome: "dropped" });
      return;
    }
    const set = await deps.signer.signJwt(job.claims, SET_TYP);
    if (stream.method === "poll") {
      await hold(stream.id, job.claims, set);
      return;
    }
    const answer = await push(stream.endpointUrl, set);
    if (answer.status === 202) {
      deps.metrics.signalDeliveries.inc({ outcome: "delivered" });
      await deps.streams.recordDelivered(stream.id, deps.clock.now());
      return;
    }
    const message =
      answer.status === 0
        ? `push failed: ${answer.error ?? "network error"}`
        : `receiver answered ${answer.status}${answer.error ? ` (${answer.error})` : ""}`;
    const last = answer.status === 400 || attempt.made + 1 >= attempt.max;
    await fail(stream.id, message, last);
    if (!last) throw new Error(message);
  };
}

/** The `err` of an RFC 8935 §2.4 error body, read to at most 4 KiB; "" when it has none. */
async function receiverError(res: Response, endpoint: string): Promise<string> {
  try {
    const text = await readBoundedText(res, 4096, endpoint);
    const body: unknown = JSON.parse(text);
    if (typeof body === "object" && body !== null && "err" in body && typeof body.err === "string") {
      return body.err.slice(0, 64);
    }
  } catch {
    // not JSON: the status says enough
  }
  return "";
}
