import type { PublicSignerJwk } from "../../providers/signer/signer-keys.js";

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
