import type { Clock } from "../shared/clock.js";
import { toIso } from "../shared/clock.js";
import { unavailable } from "../shared/errors.js";
import { luaScript } from "../shared/lua-script.js";
import type { RedisClient } from "../shared/redis.js";
import { AUDIT_APPEND_SCRIPT } from "./audit-scripts.js";

const appendScript = luaScript(AUDIT_APPEND_SCRIPT);

import { type ChainHead, chainEvent, eventJson, formatHead, parseHead } from "./audit-chain.js";
import { auditKeys } from "./audit-keys.js";
import { parseStoredEvent, parseXrange } from "./audit-parse.js";
import type { AuditEvent, AuditEventInput } from "./audit-types.js";
import { GENESIS_HASH } from "./audit-types.js";
import { canonicalJson } from "./canonical-json.js";

export interface AuditQuery {
  taskId?: string;
  /** RFC 3339; events at or after. */
  since?: string;
  limit: number;
  /** A `next_cursor` of the same kind of listing, checked at the edge (`audit-cursor.ts`). */
  cursor?: string;
}

export interface AuditPage {
  events: AuditEvent[];
  next_cursor: string | null;
}

export interface AuditLog {
  /**
   * Resolves once the event is durably in the chain; rejects with `BrokerError("unavailable")` if Redis
   * refused it, so callers fail closed with 503.
   */
  append(input: AuditEventInput): Promise<AuditEvent>;
  list(query: AuditQuery): Promise<AuditPage>;
  /** Every event of one task, in chain order. */
  forTask(taskId: string): Promise<AuditEvent[]>;
  /** The whole chain in order, read in pages (for verification and export). */
  all(pageSize?: number): AsyncIterable<AuditEvent>;
  /**
   * The events from `seq` on, in chain order, read backwards from the newest in pages (so the cost is the
   * number of events since `seq`, not the chain's length).
   */
  since(seq: number, pageSize?: number): Promise<AuditEvent[]>;
  /** The recorded chain head. */
  head(): Promise<ChainHead | null>;
}

interface PendingAppend {
  input: AuditEventInput;
  resolve: (event: AuditEvent) => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 256;
const MAX_CAS_ATTEMPTS = 100;

/**
 * A hash-chained audit log in a Redis Stream. Appends from one process are batched (one round trip per
 * batch); appends from many processes stay one chain through a compare-and-set on the head.
 */
export function createAuditLog(deps: { redis: RedisClient; keyPrefix: string; clock: Clock }): AuditLog {
  const keys = auditKeys(deps.keyPrefix);
  const queue: PendingAppend[] = [];
  let head: ChainHead | null | undefined;
  let flushing = false;

  async function readHead(): Promise<ChainHead | null> {
    return parseHead(await deps.redis.get(keys.head));
  }

  function buildBatch(batch: PendingAppend[], from: ChainHead | null): AuditEvent[] {
    let prev = from ?? { seq: 0, hash: GENESIS_HASH };
    return batch.map(({ input }) => {
      const event = chainEvent(input, prev, toIso(deps.clock.now()));
      prev = { seq: event.seq, hash: event.hash };
      return event;
    });
  }

  async function writeBatch(batch: PendingAppend[]): Promise<AuditEvent[]> {
    if (head === undefined) head = await readHead();
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const events = buildBatch(batch, head);
      const last = events[events.length - 1]!;
      const eventKeys = events.map((event) => (event.task_id ? keys.task(event.task_id) : keys.stream));
      const result = await appendScript(
        deps.redis,
        [keys.head, keys.stream, ...eventKeys],
        [
          formatHead(head),
          formatHead({ seq: last.seq, hash: last.hash }),
          ...events.map((event) => canonicalJson(eventJson(event))),
        ],
      );
      if (result === "ok") {
        head = { seq: last.seq, hash: last.hash };
        return events;
      }
      head = parseHead(String(result));
    }
    throw new Error("audit chain contention: could not append after many attempts");
  }

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, MAX_BATCH);
        try {
          const events = await writeBatch(batch);
          for (const [i, pending] of batch.entries()) pending.resolve(events[i]!);
        } catch (err) {
          // Whatever failed this batch (Redis down or stalled) would fail the ones queued behind it too,
          // each after its own timeout: every caller waiting now gets the 503 at once.
          head = undefined;
          const refused = unavailable(err);
          for (const pending of [...batch, ...queue.splice(0)]) pending.reject(refused);
        }
      }
    } finally {
      flushing = false;
    }
  }

  function append(input: AuditEventInput): Promise<AuditEvent> {
    return new Promise<AuditEvent>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (!flushing) void flush();
    });
  }

  async function listStream(query: AuditQuery): Promise<AuditPage> {
    const start = query.cursor ? `(${query.cursor}` : query.since ? `${Date.parse(query.since)}-0` : "-";
    const entries = await deps.redis.xrange(keys.stream, start, "+", "COUNT", query.limit);
    const events = entries.map(([, fields]) => parseStoredEvent(fields));
    const lastId = entries.length === query.limit ? entries[entries.length - 1]![0] : null;
    return { events, next_cursor: lastId };
  }

  async function listTask(query: AuditQuery & { taskId: string }): Promise<AuditPage> {
    const offset = query.cursor ? Number.parseInt(query.cursor, 10) || 0 : 0;
    const ids = await deps.redis.lrange(keys.task(query.taskId), offset, offset + query.limit - 1);
    const events = await readIds(ids);
    const sinceMs = query.since ? Date.parse(query.since) : undefined;
    const filtered = sinceMs === undefined ? events : events.filter((e) => Date.parse(e.time) >= sinceMs);
    return { events: filtered, next_cursor: ids.length === query.limit ? String(offset + ids.length) : null };
  }

  async function readIds(ids: string[]): Promise<AuditEvent[]> {
    if (ids.length === 0) return [];
    const pipeline = deps.redis.pipeline();
    for (const id of ids) pipeline.xrange(keys.stream, id, id);
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([err, value]) => {
      if (err) throw err;
      return parseXrange(value).map(([, fields]) => parseStoredEvent(fields));
    });
  }

  async function* all(pageSize = 1000): AsyncIterable<AuditEvent> {
    let start = "-";
    for (;;) {
      const entries = await deps.redis.xrange(keys.stream, start, "+", "COUNT", pageSize);
      for (const [, fields] of entries) yield parseStoredEvent(fields);
      if (entries.length < pageSize) return;
      start = `(${entries[entries.length - 1]![0]}`;
    }
  }

  async function since(seq: number, pageSize = 1000): Promise<AuditEvent[]> {
    const newestFirst: AuditEvent[] = [];
    let end = "+";
    for (;;) {
      const entries = await deps.redis.xrevrange(keys.stream, end, "-", "COUNT", pageSize);
      for (const [, fields] of entries) {
        const event = parseStoredEvent(fields);
        newestFirst.push(event);
        if (event.seq <= seq) return newestFirst.reverse();
      }
      if (entries.length < pageSize) return newestFirst.reverse();
      end = `(${entries[entries.length - 1]![0]}`;
    }
  }

  return {
    append,
    all,
    since,
    head: readHead,
    list: (query) => (query.taskId ? listTask({ ...query, taskId: query.taskId }) : listStream(query)),
    forTask: async (taskId) => readIds(await deps.redis.lrange(keys.task(taskId), 0, -1)),
  };
}
