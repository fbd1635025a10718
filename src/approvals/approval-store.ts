import { luaScript } from "../shared/lua-script.js";
import type { RedisClient } from "../shared/redis.js";
import { hgetallMany, inOrder } from "../shared/redis-batch.js";
import { decodeApproval, encodeApproval } from "./approval-codec.js";
import { approvalKeys } from "./approval-keys.js";
import { APPROVAL_TRANSITION_SCRIPT } from "./approval-scripts.js";
import { APPROVAL_STATES, type Approval, type ApprovalState } from "./approval-types.js";

const transitionScript = luaScript(APPROVAL_TRANSITION_SCRIPT);

/** Where a listing of pending approvals stands: ordered by expiry, then id. */
export interface PendingPosition {
  id: string;
  expiresAt: number;
}

export interface ApprovalStore {
  /** Writes a new approval: the indexes first (hints), then the record (with its expiry) and the task's list. */
  create(approval: Approval): Promise<void>;
  get(approvalId: string): Promise<Approval | null>;
  listForTask(taskId: string): Promise<Approval[]>;
  pendingIds(limit: number): Promise<string[]>;
  /** Pending approvals `requester` raised that expire after `now` (for the pending-approval quota). */
  pendingCountOf(requester: string, now: number): Promise<number>;
  /** Pending approvals in expiry order, after `after` (exclusive), at most `count`. */
  pendingAfter(after: PendingPosition | null, count: number): Promise<PendingPosition[]>;
  /** Moves an approval if it is in one of `from`; returns whether this call moved it. */
  transition(
    approval: Pick<Approval, "id" | "taskId" | "requester">,
    from: readonly ApprovalState[],
    to: ApprovalState,
    fields?: Record<string, string>,
  ): Promise<boolean>;
}

/** Approval records in Redis (handles and request facts only: never a secret). */
export function createApprovalStore(deps: {
  redis: RedisClient;
  keyPrefix: string;
  retentionSeconds: number;
}): ApprovalStore {
  const { redis } = deps;
  const keys = approvalKeys(deps.keyPrefix);
  const states = new Set<string>(APPROVAL_STATES);

  return {
    async create(approval) {
      const key = keys.approval(approval.taskId, approval.id);
      await inOrder(
        redis,
        [
          () => redis.hset(keys.index, approval.id, approval.taskId),
          () => redis.zadd(keys.pending, approval.expiresAt, approval.id),
          () => redis.zadd(keys.pendingBy(approval.requester), approval.expiresAt, approval.id),
        ],
        () =>
          Promise.all([
            redis.hset(key, encodeApproval(approval)),
            redis.pexpireat(key, approval.expiresAt + deps.retentionSeconds * 1000),
            redis.rpush(keys.ofTask(approval.taskId), approval.id),
          ]),
      );
    },
    async get(approvalId) {
      const taskId = await redis.hget(keys.index, approvalId);
      return taskId ? decodeApproval(await redis.hgetall(keys.approval(taskId, approvalId))) : null;
    },
    async listForTask(taskId) {
      const ids = await redis.lrange(keys.ofTask(taskId), 0, -1);
      const records = await hgetallMany(
        redis,
        ids.map((id) => keys.approval(taskId, id)),
      );
      return records.map(decodeApproval).filter((a): a is Approval => a !== null);
    },
    pendingIds: (limit) => redis.zrange(keys.pending, "0", String(limit - 1)),
    pendingCountOf: (requester, now) => redis.zcount(keys.pendingBy(requester), `(${now}`, "+inf"),
    async pendingAfter(after, count) {
      // Ties on the score are possible, so read from the cursor's score inclusive and skip what it covered.
      const min = after ? String(after.expiresAt) : "-inf";
      const reply = await redis.zrangebyscore(
        keys.pending,
        min,
        "+inf",
        "WITHSCORES",
        "LIMIT",
        0,
        count + 50,
      );
      const positions: PendingPosition[] = [];
      for (let i = 0; i + 1 < reply.length; i += 2) {
        positions.push({ id: reply[i] as string, expiresAt: Number(reply[i + 1]) });
      }
      const past = (p: PendingPosition) =>
        !after || p.expiresAt > after.expiresAt || (p.expiresAt === after.expiresAt && p.id > after.id);
      return positions
        .filter(past)
        .sort((a, b) => a.expiresAt - b.expiresAt || (a.id < b.id ? -1 : 1))
        .slice(0, count);
    },
    async transition(approval, from, to, fields = {}) {
      const reply = String(
        await transitionScript(
          redis,
          [keys.approval(approval.taskId, approval.id)],
          [from.join(" "), to, ...Object.entries(fields).flat()],
        ),
      );
      const moved = !reply.startsWith("!") && states.has(reply);
      if (moved && to !== "pending") {
        await Promise.all([
          redis.zrem(keys.pending, approval.id),
          redis.zrem(keys.pendingBy(approval.requester), approval.id),
        ]);
      }
      return moved;
    },
  };
}
