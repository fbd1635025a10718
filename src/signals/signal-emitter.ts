import type { Credential } from "../credentials/credential-types.js";
import type { RevocationQueue, SignalJob } from "../revocation/revocation-queue.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { type SignalEvent, setClaims } from "./set-claims.js";
import type { StreamStore } from "./stream-store.js";
import { eventsDelivered, SESSION_REVOKED, type Stream } from "./stream-types.js";

/** Tells the SSF streams that a task closed and which of its signer tokens were revoked. */
export interface SignalEmitter {
  /**
   * A task began closing: `credentials` are all of its credentials as they were, `revoked` the ones this
   * close moved to revoking. Never throws: a failure to queue is logged, and the close goes on.
   */
  taskClosing(
    task: { id: string; reason: string },
    credentials: Credential[],
    revoked: Credential[],
  ): Promise<void>;
  /** Queues an SSF verification event to one stream. */
  verify(stream: Stream, state: string | undefined): Promise<void>;
}

export function createSignalEmitter(deps: {
  streams: Pick<StreamStore, "idsForAudiences" | "get">;
  queue: Pick<RevocationQueue, "enqueueSignals">;
  /** The `aud` of a signer profile's tokens; undefined for profiles of other providers. */
  audienceOf: (profile: string) => string | undefined;
  /** The broker's signer `iss` (the `iss` of each SET and of the tokens it names). */
  issuer: string;
  clock: Clock;
  logger: Logger;
}): SignalEmitter {
  const audienceOf = (credential: Credential): string | undefined =>
    credential.provider === "signer" ? deps.audienceOf(credential.profile) : undefined;

  function jobsFor(stream: Stream, events: { event: SignalEvent; audience: string | null }[]): SignalJob[] {
    if (stream.status !== "enabled" || !eventsDelivered(stream).includes(SESSION_REVOKED)) return [];
    const heard = new Set(stream.audiences);
    return events
      .filter(({ audience }) => audience === null || heard.has(audience))
      .map(({ event }) => ({
        streamId: stream.id,
        claims: withJti(setClaims(event, stream.audiences, deps.issuer)),
      }));
  }

  async function taskClosing(
    task: { id: string; reason: string },
    credentials: Credential[],
    revoked: Credential[],
  ): Promise<void> {
    try {
      const audiences = [...new Set(credentials.map(audienceOf).filter((aud) => aud !== undefined))];
      if (audiences.length === 0) return;
      const streamIds = await deps.streams.idsForAudiences(audiences);
      if (streamIds.length === 0) return;
      const now = deps.clock.now();
      const events = [
        { event: { kind: "task", taskId: task.id, reason: task.reason, at: now } as const, audience: null },
        ...revoked
          .filter((c) => audienceOf(c) !== undefined && (c.expiresAt === null || c.expiresAt > now))
          .map((c) => ({
            event: { kind: "token", jti: c.id, taskId: task.id, reason: task.reason, at: now } as const,
            audience: audienceOf(c) ?? null,
          })),
      ];
      const streams = await Promise.all(streamIds.map((id) => deps.streams.get(id)));
      const jobs = streams.flatMap((stream) => (stream ? jobsFor(stream, events) : []));
      await deps.queue.enqueueSignals(jobs);
    } catch (err) {
      deps.logger.warn(
        { task_id: task.id, error: err instanceof Error ? err.message : String(err) },
        "cannot queue the task's security events",
      );
    }
  }

  async function verify(stream: Stream, state: string | undefined): Promise<void> {
    const event: SignalEvent = { kind: "verification", streamId: stream.id, state, at: deps.clock.now() };
    await deps.queue.enqueueSignals([
      { streamId: stream.id, claims: withJti(setClaims(event, stream.audiences, deps.issuer)) },
    ]);
  }

  return { taskClosing, verify };
}

function withJti(claims: Record<string, unknown>): SignalJob["claims"] {
  const { jti } = claims;
  if (typeof jti !== "string") throw new Error("a SET without a jti");
  return { ...claims, jti };
}
