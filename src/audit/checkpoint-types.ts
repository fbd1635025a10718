import type { PublicSignerJwk } from "../../providers/signer/signer-keys.js";
import { canonicalJson } from "./canonical-json.js";

/** `typ` of checkpoint signatures: never confusable with an access token. */
export const CHECKPOINT_TYP = "credbroker-audit-checkpoint+jws";

/** A signed statement "the chain had `seq` events and its head hash was `hash` at `time`". */
export interface Checkpoint {
  seq: number;
  hash: string;
  time: string;
  kid: string;
  jws: string;
  public_jwk: PublicSignerJwk;
}

/** The exact statement a checkpoint's signature covers. */
export const checkpointStatement = (c: Pick<Checkpoint, "seq" | "hash" | "time">): string =>
  canonicalJson({ typ: CHECKPOINT_TYP, seq: c.seq, hash: c.hash, time: c.time });
