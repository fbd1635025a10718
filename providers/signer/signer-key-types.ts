import type { Redis } from "ioredis";
import type { CryptoKey } from "jose";
import { z } from "zod";

/**
 * The signer key ring's types: what it hands out (signing and verification keys, published JWKs) and the
 * contract between the ring and its key sources (Redis-kept generated keys, or PEM files).
 */

export type SignerAlgorithm = "ES256" | "EdDSA";

/** The public members of a key as JWK; both sources validate keys against it. */
export const publicJwkSchema = z.object({
  kty: z.enum(["EC", "OKP"]),
  crv: z.string(),
  x: z.string(),
  y: z.string().optional(),
});
export type PublicJwkFields = z.infer<typeof publicJwkSchema>;

/** A public key as published in the JWKS: never any private member. */
export interface PublicSignerJwk {
  kty: "EC" | "OKP";
  crv: string;
  x: string;
  y?: string;
  kid: string;
  alg: SignerAlgorithm;
  use: "sig";
}

/** The key that signs now. */
export interface SigningKey {
  kid: string;
  alg: SignerAlgorithm;
  privateKey: CryptoKey;
}

/** A published key, ready to verify signatures. */
export interface VerificationKey {
  kid: string;
  alg: SignerAlgorithm;
  publicKey: CryptoKey;
}

export interface SignerKeyRing {
  /** The signing key; cached, re-read from Redis at most every 5 s. */
  current(): Promise<SigningKey>;
  /** The current key and the retired keys still inside retention, newest first. */
  publicJwks(): Promise<{ keys: PublicSignerJwk[] }>;
  /** A published key by kid; `undefined` for unknown, pruned or never-published kids. */
  verificationKey(kid: string): Promise<VerificationKey | undefined>;
  /**
   * Makes a new key current; the previous one stays published for `retentionSeconds`, then is pruned.
   * Throws SignerKeyError `ERR_SIGNER_ROTATION_UNSUPPORTED` when keys come from files.
   */
  rotate(): Promise<{ kid: string; previous_kid: string }>;
  /** Drops cached keys. The Redis connection is the caller's and stays open. */
  close(): Promise<void>;
}

export interface SignerKeyRingDeps {
  redis: Pick<Redis, "get" | "hgetall" | "hdel" | "eval">;
  keyPrefix: string;
  /** 32-byte key-encryption key (see `loadKek`); required unless `pemFiles` is given. */
  kek?: Buffer | undefined;
  /** Algorithm of generated keys. If the stored current key has another one, the ring rotates at start. */
  algorithm: SignerAlgorithm;
  /** Epoch ms. */
  now: () => number;
  /** How long a retired key stays published: the longest TTL it could have signed, plus margin. */
  retentionSeconds: number;
  /** PEM PKCS#8 private keys to use instead of generated ones: the first signs, all are published. */
  pemFiles?: string[] | undefined;
}

/** A known key, public half only. `retiredAt` null: not retired. */
export interface KnownKey {
  kid: string;
  alg: SignerAlgorithm;
  createdAt: number;
  retiredAt: number | null;
  publicJwk: PublicJwkFields;
}

/** One load of a source: the key that signs and every key it knows, as of `loadedAt` (epoch ms). */
export interface Snapshot {
  current: SigningKey;
  known: KnownKey[];
  loadedAt: number;
}

/** Where the ring's keys come from: Redis (`redis-key-source.ts`) or PEM files (`pem-key-source.ts`). */
export interface KeySource {
  /** Whether `load` can return something new (Redis) or the keys are fixed (files). */
  refreshes: boolean;
  load(): Promise<Snapshot>;
  /** Rotates; with `unlessAlgorithm`, only if the current key is not already of that algorithm. */
  rotate(unlessAlgorithm?: SignerAlgorithm): Promise<{ kid: string; previous_kid: string }>;
}
