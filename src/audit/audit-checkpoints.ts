import { z } from "zod";
import type { DocumentSigner } from "../../providers/signer/document-signer.js";
import type { PublicSignerJwk } from "../../providers/signer/signer-keys.js";
import type { Clock } from "../shared/clock.js";
import { toIso } from "../shared/clock.js";
import type { RedisClient } from "../shared/redis.js";
import { parseHead } from "./audit-chain.js";
import { auditKeys } from "./audit-keys.js";
import { CHECKPOINT_TYP, type Checkpoint, checkpointStatement } from "./checkpoint-types.js";

/** A published signer key (public half), as in the JWKS and in checkpoints. */
export const publicJwkSchema = z.object({
  kty: z.enum(["EC", "OKP"]),
  crv: z.string(),
  x: z.string(),
  y: z.string().optional(),
  kid: z.string(),
  alg: z.enum(["ES256", "EdDSA"]),
  use: z.literal("sig"),
});

const checkpointSchema = z.object({
  seq: z.number().int().positive(),
  hash: z.string(),
  time: z.string(),
  kid: z.string(),
  jws: z.string(),
  public_jwk: publicJwkSchema,
});

export const parseCheckpoint = (raw: string): Checkpoint => checkpointSchema.parse(JSON.parse(raw));

export interface AuditCheckpoints {
  /** Signs the current head if it moved past the last checkpoint; null when there is nothing new. */
  checkpoint(): Promise<Checkpoint | null>;
  list(): Promise<Checkpoint[]>;
  /** The newest checkpoint (one read, whatever the number of checkpoints). */
  last(): Promise<Checkpoint | null>;
  /** The `limit` oldest checkpoints, oldest first. */
  oldest(limit: number): Promise<Checkpoint[]>;
  anchor(): Promise<Checkpoint | null>;
  /** The signature holds and signs exactly this checkpoint's seq, hash and time. */
  checkSignature(checkpoint: Checkpoint): Promise<boolean>;
}

/** Signed checkpoints of the audit chain, kept in a sorted set by sequence number. */
export function createAuditCheckpoints(deps: {
  redis: RedisClient;
  keyPrefix: string;
  clock: Clock;
  signer: DocumentSigner;
  /** The broker's published keys: an embedded key must match the published key of the same kid. */
  publishedKeys: () => Promise<{ keys: PublicSignerJwk[] }>;
}): AuditCheckpoints {
  const keys = auditKeys(deps.keyPrefix);

  async function list(): Promise<Checkpoint[]> {
    return (await deps.redis.zrange(keys.checkpoints, "0", "-1")).map(parseCheckpoint);
  }

  async function last(): Promise<Checkpoint | null> {
    const [newest] = await deps.redis.zrange(keys.checkpoints, "-1", "-1");
    return newest ? parseCheckpoint(newest) : null;
  }

  return {
    list,
    last,
    async oldest(limit) {
      return (await deps.redis.zrange(keys.checkpoints, "0", String(limit - 1))).map(parseCheckpoint);
    },
    async anchor() {
      const raw = await deps.redis.get(keys.anchor);
      return raw ? parseCheckpoint(raw) : null;
    },
    async checkpoint() {
      const head = parseHead(await deps.redis.get(keys.head));
      const newest = await last();
      if (!head || (newest && newest.seq >= head.seq)) return null;
      const time = toIso(deps.clock.now());
      const signed = await deps.signer.sign(
        checkpointStatement({ seq: head.seq, hash: head.hash, time }),
        CHECKPOINT_TYP,
      );
      const checkpoint: Checkpoint = { seq: head.seq, hash: head.hash, time, ...signed };
      await deps.redis.zadd(keys.checkpoints, "NX", checkpoint.seq, JSON.stringify(checkpoint));
      return checkpoint;
    },
    async checkSignature(checkpoint) {
      const payload = await deps.signer.verify(checkpoint, CHECKPOINT_TYP);
      if (payload === null || payload !== checkpointStatement(checkpoint)) return false;
      const published = (await deps.publishedKeys()).keys.find((key) => key.kid === checkpoint.kid);
      return (
        !published || (published.x === checkpoint.public_jwk.x && published.y === checkpoint.public_jwk.y)
      );
    },
  };
}
