import { z } from "zod";
import { luaScript } from "../shared/lua-script.js";
import type { RedisClient } from "../shared/redis.js";
import { hgetallMany, inOrder, lrangeMany } from "../shared/redis-batch.js";
import { decodeTask, encodeTask } from "./task-codec.js";
import { taskKeys } from "./task-keys.js";
import { BEGIN_CLOSE_SCRIPT, COMPLETE_CLOSE_SCRIPT } from "./task-scripts.js";

const beginCloseScript = luaScript(BEGIN_CLOSE_SCRIPT);
const completeCloseScript = luaScript(COMPLETE_CLOSE_SCRIPT);

import type { CloseReason, Task, TaskState } from "./task-types.js";

const TASK_STATES = z.enum(["open", "closing", "closed"]);

export interface TaskStore {
  /** Writes a new task: indexes first (hints), then the record. */
  create(task: Task): Promise<void>;
  /** How many children the task has (for the children quota). */
  childCount(taskId: string): Promise<number>;
  /** Open tasks of `owner` whose deadline is after `now` (for the open-task quota). */
  openCountOf(owner: string, now: number): Promise<number>;
  get(taskId: string): Promise<Task | null>;
  getMany(taskIds: string[]): Promise<Task[]>;
  children(taskId: string): Promise<string[]>;
  /** The children of many tasks, one round trip. */
  childrenOf(taskIds: string[]): Promise<string[][]>;
  /** Moves an open task to closing. Returns the state it had before, or null if there is no such task. */
  beginClose(taskId: string, reason: CloseReason, now: number): Promise<TaskState | null>;
  /** Moves a closing task to closed; true when this call did it. */
  completeClose(taskId: string, now: number): Promise<boolean>;
  /** Open tasks whose deadline is at or before `until` (ms). */
  openDueBy(until: number, limit: number): Promise<string[]>;
  openTaskIds(): Promise<string[]>;
  /** Open task ids in deadline order from position `offset` (a cursor over the open index), at most `limit`. */
  openTaskPage(offset: number, limit: number): Promise<string[]>;
  /** Closing tasks in the order they began closing, from position `offset`, with when each began (ms). */
  closingPage(offset: number, limit: number): Promise<{ id: string; since: number }[]>;
  /** Puts a task in the index its recorded state calls for (repairs a crash between a script and its index move). */
  reindex(task: Pick<Task, "id" | "state" | "deadline" | "closingAt">): Promise<void>;
  /** Drops index entries whose task record no longer exists. */
  dropMissing(taskIds: string[]): Promise<void>;
  /** Task ids by creation time, newest first, for listings; the cursor is an offset. */
  page(limit: number, offset: number): Promise<{ ids: string[] }>;
}

/** Task records and their indexes; every multi-slot write works on standalone, Sentinel and Cluster. */
export function createTaskStore(deps: { redis: RedisClient; keyPrefix: string }): TaskStore {
  const { redis } = deps;
  const keys = taskKeys(deps.keyPrefix);

  async function getMany(taskIds: string[]): Promise<Task[]> {
    const records = await hgetallMany(redis, taskIds.map(keys.task));
    return records.map(decodeTask).filter((task): task is Task => task !== null);
  }

  return {
    async create(task) {
      const { parentId } = task;
      await inOrder(
        redis,
        [
          () => redis.zadd(keys.all, task.createdAt, task.id),
          () => redis.zadd(keys.open, task.deadline, task.id),
          () => redis.zadd(keys.openByOwner(task.owner), task.deadline, task.id),
          ...(parentId ? [() => redis.rpush(keys.children(parentId), task.id)] : []),
        ],
        () => redis.hset(keys.task(task.id), encodeTask(task)),
      );
    },
    async get(taskId) {
      return decodeTask(await redis.hgetall(keys.task(taskId)));
    },
    getMany,
    children: (taskId) => redis.lrange(keys.children(taskId), 0, -1),
    childrenOf: (taskIds) => lrangeMany(redis, taskIds.map(keys.children)),
    childCount: (taskId) => redis.llen(keys.children(taskId)),
    openCountOf: (owner, now) => redis.zcount(keys.openByOwner(owner), `(${now}`, "+inf"),
    async beginClose(taskId, reason, now) {
      const reply = String(await beginCloseScript(redis, [keys.task(taskId)], [reason, String(now)]));
      if (reply === "missing") return null;
      const before = TASK_STATES.parse(reply);
      if (before === "open") {
        // Into `closing` before out of `open`: a crash in between leaves the task in both, never in neither.
        await inOrder(redis, [() => redis.zadd(keys.closing, now, taskId)], () =>
          redis.zrem(keys.open, taskId),
        );
        const owner = await redis.hget(keys.task(taskId), "owner");
        if (owner) await redis.zrem(keys.openByOwner(owner), taskId);
      }
      return before;
    },
    async completeClose(taskId, now) {
      const done = Number(await completeCloseScript(redis, [keys.task(taskId)], [String(now)])) === 1;
      if (done) await redis.zrem(keys.closing, taskId);
      return done;
    },
    openDueBy: (until, limit) => redis.zrangebyscore(keys.open, "-inf", String(until), "LIMIT", 0, limit),
    openTaskIds: () => redis.zrange(keys.open, "0", "-1"),
    openTaskPage: (offset, limit) => redis.zrange(keys.open, String(offset), String(offset + limit - 1)),
    async closingPage(offset, limit) {
      const flat = await redis.zrange(keys.closing, String(offset), String(offset + limit - 1), "WITHSCORES");
      const page: { id: string; since: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        page.push({ id: flat[i] ?? "", since: Number(flat[i + 1]) });
      return page;
    },
    async reindex(task) {
      await Promise.all([
        task.state === "open"
          ? redis.zadd(keys.open, task.deadline, task.id)
          : redis.zrem(keys.open, task.id),
        task.state === "closing"
          ? redis.zadd(keys.closing, task.closingAt ?? 0, task.id)
          : redis.zrem(keys.closing, task.id),
      ]);
    },
    async dropMissing(taskIds) {
      if (taskIds.length === 0) return;
      await Promise.all([redis.zrem(keys.open, ...taskIds), redis.zrem(keys.closing, ...taskIds)]);
    },
    async page(limit, offset) {
      return { ids: await redis.zrevrange(keys.all, String(offset), String(offset + limit - 1)) };
    },
  };
}
