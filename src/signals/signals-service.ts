import type { Principal } from "../auth/principal.js";
import { isAllowedUrl } from "../config/config-schema.js";
import { type Decide, requireAllowed } from "../policy/decider.js";
import { epochSeconds, policyPrincipal } from "../policy/policy-context.js";
import type { Clock } from "../shared/clock.js";
import { BrokerError } from "../shared/errors.js";
import { newId } from "../shared/ids.js";
import type { PollStore } from "./poll-store.js";
import type { SignalEmitter } from "./signal-emitter.js";
import type { StreamStore } from "./stream-store.js";
import { POLL_METHOD, PUSH_METHOD, type Stream, type StreamStatus } from "./stream-types.js";

/** What a receiver may set on its stream (SSF 1.0 §8.1.1, receiver-supplied properties). */
export interface StreamInput {
  delivery?: { method: string; endpoint_url?: string | undefined } | undefined;
  events_requested?: string[] | undefined;
  description?: string | undefined;
}

/**
 * SSF stream management for resource servers (`resource_servers`): each stream belongs to the resource
 * server that made it and hears only about tokens of that server's `audiences`. Making one is the
 * `SubscribeSignals` decision; another client's stream is a 404, like an unrelated task.
 */
export interface SignalsService {
  create(caller: Principal, input: StreamInput): Promise<Stream>;
  get(caller: Principal, streamId: string): Promise<Stream>;
  list(caller: Principal): Promise<Stream[]>;
  update(caller: Principal, streamId: string, input: StreamInput): Promise<Stream>;
  remove(caller: Principal, streamId: string): Promise<void>;
  setStatus(caller: Principal, streamId: string, status: StreamStatus, reason: string): Promise<Stream>;
  verify(caller: Principal, streamId: string, state: string | undefined): Promise<void>;
  /**
   * RFC 8936 poll of a poll stream: forgets `ack`ed and `setErrs` SETs first, then answers the oldest
   * `maxEvents` still held (never waits: `returnImmediately` is always honoured as true).
   */
  poll(caller: Principal, streamId: string, request: PollRequest): Promise<PollAnswer>;
}

export interface PollRequest {
  maxEvents?: number | undefined;
  ack?: string[] | undefined;
  setErrs?: Record<string, { err: string; description?: string | undefined }> | undefined;
}

export interface PollAnswer {
  sets: Record<string, string>;
  moreAvailable: boolean;
}

/** SETs one poll answers at most (and when `maxEvents` is absent). */
const MAX_POLL_EVENTS = 100;

export function createSignalsService(deps: {
  streams: StreamStore;
  emitter: Pick<SignalEmitter, "verify">;
  polls: PollStore;
  decide: Decide;
  clock: Clock;
  maxStreamsPerClient: number;
}): SignalsService {
  const { streams } = deps;

  function receiverOf(caller: Principal): { audiences: readonly string[] } {
    if (!caller.resourceServer) {
      throw new BrokerError(
        "policy_denied",
        "Only resource servers (resource_servers in the config) may manage SSF streams.",
      );
    }
    return caller.resourceServer;
  }

  async function owned(caller: Principal, streamId: string): Promise<Stream> {
    receiverOf(caller);
    const stream = await streams.get(streamId);
    if (stream === null || stream.owner !== caller.id) {
      throw new BrokerError("not_found", `No stream ${streamId}.`);
    }
    return stream;
  }

  /** `SubscribeSignals`, decided and audited: a 403 unless the policy lets the caller receive this way. */
  async function allowSubscription(
    caller: Principal,
    audiences: readonly string[],
    method: Stream["method"],
    endpointUrl: Stream["endpointUrl"],
  ): Promise<void> {
    await requireAllowed(
      deps.decide,
      {
        action: "SubscribeSignals",
        principal: policyPrincipal(caller),
        resource: { type: "Broker" },
        context: {
          audiences: [...audiences],
          delivery_method: method === "push" ? PUSH_METHOD : POLL_METHOD,
          endpoint_url: endpointUrl,
          now: epochSeconds(deps.clock.now()),
        },
      },
      null,
    );
  }

  async function create(caller: Principal, input: StreamInput): Promise<Stream> {
    const { audiences } = receiverOf(caller);
    const { method, endpointUrl } = delivery(input);
    await allowSubscription(caller, audiences, method, endpointUrl);
    if ((await streams.countForOwner(caller.id)) >= deps.maxStreamsPerClient) {
      throw new BrokerError(
        "invalid_request",
        `A resource server may have at most ${deps.maxStreamsPerClient} streams; delete one first.`,
      );
    }
    const stream: Stream = {
      id: newId("str"),
      owner: caller.id,
      audiences: [...audiences],
      method,
      endpointUrl,
      eventsRequested: input.events_requested ?? [],
      description: input.description ?? "",
      status: "enabled",
      statusReason: "",
      createdAt: deps.clock.now(),
      delivered: 0,
      failedAttempts: 0,
      dropped: 0,
      lastDeliveredAt: null,
      lastError: null,
      lastErrorAt: null,
    };
    await streams.create(stream);
    return stream;
  }

  async function update(caller: Principal, streamId: string, input: StreamInput): Promise<Stream> {
    const stream = await owned(caller, streamId);
    const changed = input.delivery === undefined ? undefined : delivery(input);
    // A new delivery method or endpoint is a new subscription: the policy decides it as it did at creation.
    if (changed) await allowSubscription(caller, stream.audiences, changed.method, changed.endpointUrl);
    await streams.update(stream.id, {
      ...(changed ?? {}),
      ...(input.events_requested === undefined ? {} : { eventsRequested: input.events_requested }),
      ...(input.description === undefined ? {} : { description: input.description }),
    });
    return (await streams.get(stream.id)) ?? stream;
  }

  return {
    create,
    get: owned,
    async list(caller) {
      receiverOf(caller);
      return streams.listForOwner(caller.id);
    },
    update,
    async remove(caller, streamId) {
      await streams.delete(await owned(caller, streamId));
    },
    async setStatus(caller, streamId, status, reason) {
      const stream = await owned(caller, streamId);
      await streams.setStatus(stream.id, status, reason);
      return { ...stream, status, statusReason: reason };
    },
    async verify(caller, streamId, state) {
      const stream = await owned(caller, streamId);
      if (stream.status !== "enabled") {
        throw new BrokerError("invalid_request", `Stream ${streamId} is ${stream.status}; enable it first.`);
      }
      await deps.emitter.verify(stream, state);
    },
    async poll(caller, streamId, request) {
      const stream = await owned(caller, streamId);
      if (stream.method !== "poll") {
        throw new BrokerError("invalid_request", `Stream ${streamId} is a push stream; it cannot be polled.`);
      }
      const done = [...(request.ack ?? []), ...Object.keys(request.setErrs ?? {})];
      await deps.polls.ack(stream.id, done);
      const max = Math.min(request.maxEvents ?? MAX_POLL_EVENTS, MAX_POLL_EVENTS);
      if (max === 0) return { sets: {}, moreAvailable: false };
      const { sets, more } = await deps.polls.take(stream.id, max);
      return { sets, moreAvailable: more };
    },
  };
}

/**
 * A stream's delivery: push to the receiver's https endpoint, or poll at the broker (the receiver gives no
 * endpoint; the stream's `delivery.endpoint_url` is the broker's poll URL).
 */
function delivery(input: StreamInput): { method: "push" | "poll"; endpointUrl: string } {
  const method = input.delivery?.method;
  if (method === POLL_METHOD) {
    if (input.delivery?.endpoint_url !== undefined) {
      throw new BrokerError(
        "invalid_request",
        "A poll stream's endpoint_url is the broker's; do not send one.",
      );
    }
    return { method: "poll", endpointUrl: "" };
  }
  if (method !== PUSH_METHOD) {
    throw new BrokerError(
      "invalid_request",
      `delivery.method must be "${PUSH_METHOD}" (push) or "${POLL_METHOD}" (poll).`,
    );
  }
  const url = input.delivery?.endpoint_url;
  if (url === undefined || !isAllowedUrl(url)) {
    throw new BrokerError(
      "invalid_request",
      "delivery.endpoint_url must be an https URL (plain http only on loopback addresses).",
    );
  }
  return { method: "push", endpointUrl: url };
}
