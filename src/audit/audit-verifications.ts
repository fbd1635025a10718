import { z } from "zod";
import type { Clock } from "../shared/clock.js";
import { toIso } from "../shared/clock.js";
import type { RedisClient } from "../shared/redis.js";
import type { AuditCheckpoints } from "./audit-checkpoints.js";
import { auditKeys } from "./audit-keys.js";
import type { AuditLog } from "./audit-log.js";
import { type VerifyResult, verifyChain } from "./audit-verify.js";

/** Full verification runs are kept this long (their result is also the answer's; nothing else keeps it). */
const TTL_SECONDS = 7 * 86_400;

/** A full walk of the chain, run as a job on the worker role. */
export interface VerificationStatus {
  verification_id: string;
  state: "running" | "completed";
  actor: string;
  started_at: string;
  finished_at: string | null;
  /** Events examined so far, the last seq reached, and the head the walk runs to. */
  progress: { events: number; last_seq: number | null; head_seq: number | null };
  result: VerifyResult | null;
}

const resultSchema = z.custom<VerifyResult>(
  (value) => typeof value === "object" && value !== null && "valid" in value,
);

export interface AuditVerifications {
  create(verificationId: string, actor: string): Promise<VerificationStatus>;
  get(verificationId: string): Promise<VerificationStatus | null>;
  /** Walks the whole chain (the job's body); progress is stored every 10,000 events. */
  run(verificationId: string): Promise<void>;
}

export function createAuditVerifications(deps: {
  redis: RedisClient;
  keyPrefix: string;
  clock: Clock;
  audit: Pick<AuditLog, "all" | "head">;
  checkpoints: Pick<AuditCheckpoints, "anchor" | "list" | "checkSignature">;
}): AuditVerifications {
  const keys = auditKeys(deps.keyPrefix);
  const key = keys.verification;

  async function write(verificationId: string, fields: Record<string, string>): Promise<void> {
    await deps.redis.hset(key(verificationId), fields);
    await deps.redis.expire(key(verificationId), TTL_SECONDS);
  }

  async function get(verificationId: string): Promise<VerificationStatus | null> {
    const raw = await deps.redis.hgetall(key(verificationId));
    if (!raw.actor || !raw.started_at) return null;
    const optionalNumber = (value: string | undefined) => (value ? Number(value) : null);
    return {
      verification_id: verificationId,
      state: raw.result ? "completed" : "running",
      actor: raw.actor,
      started_at: raw.started_at,
      finished_at: raw.finished_at ?? null,
      progress: {
        events: Number(raw.events ?? 0),
        last_seq: optionalNumber(raw.last_seq),
        head_seq: optionalNumber(raw.head_seq),
      },
      result: raw.result ? resultSchema.parse(JSON.parse(raw.result)) : null,
    };
  }

  return {
    async create(verificationId, actor) {
      await write(verificationId, { actor, started_at: toIso(deps.clock.now()), events: "0" });
      const status = await get(verificationId);
      if (!status) throw new Error(`verification ${verificationId} was not recorded`);
      return status;
    },
    get,
    async run(verificationId) {
      if ((await get(verificationId))?.result) return;
      // Checkpoints first, then the head: events appended while the chain is walked are left out.
      const anchor = await deps.checkpoints.anchor();
      const checkpoints = await deps.checkpoints.list();
      const head = await deps.audit.head();
      await write(verificationId, { events: "0", head_seq: head ? String(head.seq) : "" });
      const result = await verifyChain({
        events: deps.audit.all(),
        anchor,
        checkpoints,
        head,
        checkSignature: deps.checkpoints.checkSignature,
        onProgress: (events, lastSeq) =>
          write(verificationId, { events: String(events), last_seq: String(lastSeq) }),
      });
      await write(verificationId, {
        events: String(result.events),
        last_seq: result.valid && result.last_seq !== null ? String(result.last_seq) : "",
        result: JSON.stringify(result),
        finished_at: toIso(deps.clock.now()),
      });
    },
  };
}
