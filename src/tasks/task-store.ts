import type { Redis } from "ioredis";
import { z } from "zod";
import { execOrThrow, hgetallMany } from "../shared/redis-pipeline.js";
import { decodeTask, encodeTask } from "./task-codec.js";
import { type TaskKeys, taskKeys } from "./task-keys.js";
import { BEGIN_CLOSE_SCRIPT, COMPLETE_CLOSE_SCRIPT } from "./task-scripts.js";
import type { CloseReason, Task, TaskState } from "./task-types.js";

const TASK_STATES = z.enum(["open", "closing", "closed"]);

export interface TaskStore {
  readonly keys: TaskKeys;
  /** Writes a new task: indexes first (hints), then the record. */
  create(task: Task): Promise<void>;
  get(taskId: string): Promise<Task | null>;
  getMany(taskIds: string[]): Promise<Task[]>;
  children(taskId: string): Promise<string[]>;
  /** Moves an open task to closing. Returns the state it had before, or null if there is no such task. */
  beginClose(taskId: string, reason: CloseReason, now: number): Promise<TaskState | null>;
  /** Moves a closing task to closed; true when this call did it. */
  completeClose(taskId: string, now: number): Promise<boolean>;
  /** Open tasks whose deadline is at or before `until` (ms). */
  openDueBy(until: number, limit: number): Promise<string[]>;
  openTaskIds(): Promise<string[]>;
  closingTaskIds(limit: number): Promise<string[]>;
  /** Puts a task in the index its recorded state calls for (repairs a crash between a script and its index move). */
  reindex(task: Pick<Task, "id" | "state" | "deadline" | "closingAt">): Promise<void>;
  /** Drops index entries whose task record no longer exists. */
  dropMissing(taskIds: string[]): Promise<void>;
  /** Task ids by creation time, newest first, for listings; the cursor is an offset. */
  page(limit: number, offset: number): Promise<{ ids: string[] }>;
}

export function createTaskStore(deps: { redis: Redis; keyPrefix: string }): TaskStore {
  const { redis } = deps;
  const keys = taskKeys(deps.keyPrefix);

  async function getMany(taskIds: string[]): Promise<Task[]> {
    const records = await hgetallMany(redis, taskIds.map(keys.task));
    return records.map(decodeTask).filter((task): task is Task => task !== null);
  }

  return {
    keys,
    async create(task) {
      const pipeline = redis.pipeline();
      pipeline.zadd(keys.all, task.createdAt, task.id);
      pipeline.zadd(keys.open, task.deadline, task.id);
      if (task.parentId) pipeline.rpush(keys.children(task.parentId), task.id);
      pipeline.hset(keys.task(task.id), encodeTask(task));
      await execOrThrow(pipeline);
    },
    async get(taskId) {
      return decodeTask(await redis.hgetall(keys.task(taskId)));
    },
    getMany,
    children: (taskId) => redis.lrange(keys.children(taskId), 0, -1),
    async beginClose(taskId, reason, now) {
      const reply = String(await redis.eval(BEGIN_CLOSE_SCRIPT, 1, keys.task(taskId), reason, String(now)));
      if (reply === "missing") return null;
      const before = TASK_STATES.parse(reply);
      if (before === "open") {
        await execOrThrow(redis.pipeline().zadd(keys.closing, now, taskId).zrem(keys.open, taskId));
      }
      return before;
    },
    async completeClose(taskId, now) {
      const done = Number(await redis.eval(COMPLETE_CLOSE_SCRIPT, 1, keys.task(taskId), String(now))) === 1;
      if (done) await redis.zrem(keys.closing, taskId);
      return done;
    },
    openDueBy: (until, limit) => redis.zrangebyscore(keys.open, "-inf", String(until), "LIMIT", 0, limit),
    openTaskIds: () => redis.zrange(keys.open, "0", "-1"),
    closingTaskIds: (limit) => redis.zrange(keys.closing, "0", String(limit - 1)),
    async reindex(task) {
      const pipeline = redis.pipeline();
      if (task.state === "open") pipeline.zadd(keys.open, task.deadline, task.id);
      else pipeline.zrem(keys.open, task.id);
      if (task.state === "closing") pipeline.zadd(keys.closing, task.closingAt ?? 0, task.id);
      else pipeline.zrem(keys.closing, task.id);
      await execOrThrow(pipeline);
    },
    async dropMissing(taskIds) {
      if (taskIds.length === 0) return;
      await execOrThrow(
        redis
          .pipeline()
          .zrem(keys.open, ...taskIds)
          .zrem(keys.closing, ...taskIds),
      );
    },
    async page(limit, offset) {
      return { ids: await redis.zrevrange(keys.all, String(offset), String(offset + limit - 1)) };
    },
  };
}
