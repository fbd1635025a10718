import { type CryptoKey, importJWK } from "jose";
import { pemFileKeySource } from "./pem-key-source.js";
import { redisKeySource } from "./redis-key-source.js";
import type {
  KeySource,
  KnownKey,
  PublicSignerJwk,
  SignerKeyRing,
  SignerKeyRingDeps,
  Snapshot,
} from "./signer-key-types.js";

/**
 * The signer's key ring: the key that signs now and the retired keys still published for verification.
 * Keys are generated on first start and kept in Redis with the private half sealed under the KEK, so every
 * replica signs with the same key and a rotation on one replica reaches the others within a refresh
 * interval. Alternatively keys come from PEM files and nothing is stored.
 */

export { SignerKeyError, type SignerKeyErrorCode } from "./kek.js";
export type {
  PublicSignerJwk,
  SignerAlgorithm,
  SignerKeyRing,
  SignerKeyRingDeps,
  SigningKey,
  VerificationKey,
} from "./signer-key-types.js";
export { signerRedisKeys } from "./signer-redis-keys.js";

/** How often a replica re-reads the ring from Redis, so rotations elsewhere are picked up. */
const REFRESH_MS = 5_000;
/** A token with an unknown kid triggers an early re-read, at most this often. */
const UNKNOWN_KID_REFRESH_MS = 1_000;

/**
 * Builds the key ring and loads it: generates the first key if Redis has none (safe with replicas starting
 * together), and checks the KEK opens the stored keys. Throws SignerKeyError with a fix-it message.
 */
export async function createSignerKeyRing(deps: SignerKeyRingDeps): Promise<SignerKeyRing> {
  const source =
    deps.pemFiles !== undefined && deps.pemFiles.length > 0
      ? await pemFileKeySource(deps.pemFiles, deps.algorithm, deps.now)
      : redisKeySource(deps);
  let snapshot = await source.load();
  if (snapshot.current.alg !== deps.algorithm && source.refreshes) {
    await source.rotate(deps.algorithm);
    snapshot = await source.load();
  }
  return ringOver(source, snapshot, deps);
}

function ringOver(source: KeySource, initial: Snapshot, deps: SignerKeyRingDeps): SignerKeyRing {
  const { now } = deps;
  const retentionMs = deps.retentionSeconds * 1000;
  let snapshot = initial;
  let loading: Promise<Snapshot> | undefined;
  const publicKeys = new Map<string, Promise<CryptoKey>>();

  function fresh(maxAgeMs: number): Promise<Snapshot> {
    if (!source.refreshes || now() - snapshot.loadedAt < maxAgeMs) return Promise.resolve(snapshot);
    loading ??= source
      .load()
      .then((loaded) => {
        snapshot = loaded;
        return loaded;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  }

  function published(from: Snapshot): KnownKey[] {
    const at = now();
    return from.known
      .filter((key) => key.retiredAt === null || key.retiredAt + retentionMs > at)
      .sort((a, b) => rank(a, from) - rank(b, from) || b.createdAt - a.createdAt);
  }

  const rank = (key: KnownKey, from: Snapshot): number => (key.kid === from.current.kid ? 0 : 1);

  function importPublic(key: KnownKey): Promise<CryptoKey> {
    let imported = publicKeys.get(key.kid);
    if (imported === undefined) {
      imported = importJWK({ ...key.publicJwk }, key.alg);
      publicKeys.set(key.kid, imported);
    }
    return imported;
  }

  return {
    async current() {
      return (await fresh(REFRESH_MS)).current;
    },
    async publicJwks() {
      return { keys: published(await fresh(REFRESH_MS)).map(toPublishedJwk) };
    },
    async verificationKey(kid) {
      let found = published(await fresh(REFRESH_MS)).find((key) => key.kid === kid);
      found ??= published(await fresh(UNKNOWN_KID_REFRESH_MS)).find((key) => key.kid === kid);
      if (found === undefined) return undefined;
      return { kid, alg: found.alg, publicKey: await importPublic(found) };
    },
    async rotate() {
      const rotated = await source.rotate();
      snapshot = await source.load();
      return rotated;
    },
    async close() {
      publicKeys.clear();
    },
  };
}

function toPublishedJwk(key: KnownKey): PublicSignerJwk {
  const { kty, crv, x, y } = key.publicJwk;
  return { kty, crv, x, ...(y === undefined ? {} : { y }), kid: key.kid, alg: key.alg, use: "sig" };
}
