import { z } from "zod";
import type { RedisClient } from "../shared/redis.js";
import { storedFields } from "../shared/stored-fields.js";
import { signalKeys } from "./signal-keys.js";
import type { Stream, StreamStatus } from "./stream-types.js";

/**
 * The streams of the SSF transmitter. The record is one hash; the per-client and per-audience sets are
 * indexes written next to it (a stale entry whose record is gone is skipped and removed on read).
 */
export interface StreamStore {
  create(stream: Stream): Promise<void>;
  get(streamId: string): Promise<Stream | null>;
  listForOwner(owner: string): Promise<Stream[]>;
  countForOwner(owner: string): Promise<number>;
  /** The ids of the streams hearing about any of `audiences`. */
  idsForAudiences(audiences: readonly string[]): Promise<string[]>;
  update(
    streamId: string,
    fields: Partial<Pick<Stream, "method" | "endpointUrl" | "eventsRequested" | "description">>,
  ): Promise<void>;
  setStatus(streamId: string, status: StreamStatus, reason: string): Promise<void>;
  delete(stream: Pick<Stream, "id" | "owner" | "audiences">): Promise<void>;
  recordDelivered(streamId: string, at: number): Promise<void>;
  /** One failed push attempt; `dropped` when it was the SET's last. */
  recordFailure(streamId: string, error: string, at: number, dropped: boolean): Promise<void>;
}

const streamRecord = z.object({
  id: z.string(),
  owner: z.string(),
  audiences: storedFields.stringList,
  method: z.enum(["push", "poll"]).default("push"),
  endpoint_url: z.string(),
  events_requested: storedFields.stringList,
  description: z.string().default(""),
  status: z.enum(["enabled", "disabled"]),
  status_reason: z.string().default(""),
  created_at: z.coerce.number(),
  delivered: z.coerce.number().default(0),
  failed_attempts: z.coerce.number().default(0),
  dropped: z.coerce.number().default(0),
  last_delivered_at: storedFields.optionalNumber,
  last_error: storedFields.optionalString,
  last_error_at: storedFields.optionalNumber,
});

function decode(raw: Record<string, string>): Stream | null {
  if (Object.keys(raw).length === 0) return null;
  const r = streamRecord.parse(raw);
  return {
    id: r.id,
    owner: r.owner,
    audiences: r.audiences,
    method: r.method,
    endpointUrl: r.endpoint_url,
    eventsRequested: r.events_requested,
    description: r.description,
    status: r.status,
    statusReason: r.status_reason,
    createdAt: r.created_at,
    delivered: r.delivered,
    failedAttempts: r.failed_attempts,
    dropped: r.dropped,
    lastDeliveredAt: r.last_delivered_at,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
  };
}

/** Errors kept on the status are cut to this length. */
const MAX_ERROR_LENGTH = 300;

export function createStreamStore(deps: { redis: RedisClient; keyPrefix: string }): StreamStore {
  const { redis } = deps;
  const keys = signalKeys(deps.keyPrefix);

  async function get(streamId: string): Promise<Stream | null> {
    return decode(await redis.hgetall(keys.stream(streamId)));
  }

  async function existing(ids: string[], index: string): Promise<Stream[]> {
    const streams = await Promise.all(ids.map((id) => get(id)));
    const stale = ids.filter((_, i) => streams[i] === null);
    if (stale.length > 0) await redis.srem(index, ...stale);
    return streams.filter((stream): stream is Stream => stream !== null);
  }

  return {
    async create(stream) {
      await redis.hset(keys.stream(stream.id), {
        id: stream.id,
        owner: stream.owner,
        audiences: JSON.stringify(stream.audiences),
        method: stream.method,
        endpoint_url: stream.endpointUrl,
        events_requested: JSON.stringify(stream.eventsRequested),
        description: stream.description,
        status: stream.status,
        status_reason: stream.statusReason,
        created_at: String(stream.createdAt),
      });
      await redis.sadd(keys.byClient(stream.owner), stream.id);
      await Promise.all(stream.audiences.map((aud) => redis.sadd(keys.byAudience(aud), stream.id)));
    },
    get,
    async listForOwner(owner) {
      const index = keys.byClient(owner);
      const streams = await existing((await redis.smembers(index)).sort(), index);
      return streams.sort((a, b) => a.createdAt - b.createdAt);
    },
    async countForOwner(owner) {
      return redis.scard(keys.byClient(owner));
    },
    async idsForAudiences(audiences) {
      const sets = await Promise.all(audiences.map((aud) => redis.smembers(keys.byAudience(aud))));
      return [...new Set(sets.flat())].sort();
    },
    async update(streamId, fields) {
      const values: Record<string, string> = {};
      if (fields.method !== undefined) values.method = fields.method;
      if (fields.endpointUrl !== undefined) values.endpoint_url = fields.endpointUrl;
      if (fields.eventsRequested !== undefined)
        values.events_requested = JSON.stringify(fields.eventsRequested);
      if (fields.description !== undefined) values.description = fields.description;
      if (Object.keys(values).length > 0) await redis.hset(keys.stream(streamId), values);
    },
    async setStatus(streamId, status, reason) {
      await redis.hset(keys.stream(streamId), { status, status_reason: reason });
    },
    async delete(stream) {
      await redis.del(keys.stream(stream.id));
      await redis.del(keys.pollOrder(stream.id), keys.pollSets(stream.id));
      await redis.srem(keys.byClient(stream.owner), stream.id);
      await Promise.all(stream.audiences.map((aud) => redis.srem(keys.byAudience(aud), stream.id)));
    },
    async recordDelivered(streamId, at) {
      const key = keys.stream(streamId);
      // Only an existing stream is counted (a deleted one is not recreated by a late delivery).
      if ((await redis.exists(key)) === 0) return;
      await redis.pipeline().hincrby(key, "delivered", 1).hset(key, "last_delivered_at", String(at)).exec();
    },
    async recordFailure(streamId, error, at, dropped) {
      const key = keys.stream(streamId);
      if ((await redis.exists(key)) === 0) return;
      await redis
        .pipeline()
        .hincrby(key, "failed_attempts", 1)
        .hincrby(key, "dropped", dropped ? 1 : 0)
        .hset(key, { last_error: error.slice(0, MAX_ERROR_LENGTH), last_error_at: String(at) })
        .exec();
    },
  };
}
