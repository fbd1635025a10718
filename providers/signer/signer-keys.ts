import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Redis } from "ioredis";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
} from "jose";
import { z } from "zod";
import { KEK_BYTES, openWithKek, SignerKeyError, sealWithKek } from "./kek.js";

/**
 * The signer's key ring: the key that signs now and the retired keys still published for verification.
 * Keys are generated on first start and kept in Redis with the private half sealed under the KEK, so every
 * replica signs with the same key and a rotation on one replica reaches the others within a refresh
 * interval. Alternatively keys come from PEM files and nothing is stored.
 */

export { SignerKeyError, type SignerKeyErrorCode } from "./kek.js";

export type SignerAlgorithm = "ES256" | "EdDSA";

/** How often a replica re-reads the ring from Redis, so rotations elsewhere are picked up. */
const REFRESH_MS = 5_000;
/** A token with an unknown kid triggers an early re-read, at most this often. */
const UNKNOWN_KID_REFRESH_MS = 1_000;
const ROTATION_ATTEMPTS = 3;

/**
 * Every Redis key of the signer, built in one place. `keys` and `current` share the `{signer}` hash tag:
 * the initialise and rotate scripts touch both, which on Redis Cluster requires one slot.
 */
export function signerRedisKeys(keyPrefix: string) {
  return {
    /** Hash: kid → JSON key record (see `keyRecordSchema`). */
    keys: `${keyPrefix}:{signer}:keys`,
    /** String: the kid that signs now. */
    current: `${keyPrefix}:{signer}:current`,
    /** The untagged names `keys` and `current` had before Cluster support; read at start to adopt that ring. */
    legacy: { keys: `${keyPrefix}:signer:keys`, current: `${keyPrefix}:signer:current` },
    /** String with a TTL: present while the token with this jti is revoked and not yet expired. */
    deny: (jti: string) => `${keyPrefix}:signer:deny:${jti}`,
  };
}

const publicJwkSchema = z.object({
  kty: z.enum(["EC", "OKP"]),
  crv: z.string(),
  x: z.string(),
  y: z.string().optional(),
});
type PublicJwkFields = z.infer<typeof publicJwkSchema>;

/** The plaintext inside a record's ciphertext. */
const privateJwkSchema = publicJwkSchema.extend({ d: z.string() });

/** One key as stored in the `keys` hash; times in epoch ms; iv/ciphertext/tag seal the private JWK. */
const keyRecordSchema = z.object({
  kid: z.string().min(1),
  alg: z.enum(["ES256", "EdDSA"]),
  created_at: z.number(),
  retired_at: z.number().nullable(),
  iv: z.string(),
  ciphertext: z.string(),
  tag: z.string(),
  public_jwk: publicJwkSchema,
});
type KeyRecord = z.infer<typeof keyRecordSchema>;

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
interface KnownKey {
  kid: string;
  alg: SignerAlgorithm;
  createdAt: number;
  retiredAt: number | null;
  publicJwk: PublicJwkFields;
}

interface Snapshot {
  current: SigningKey;
  known: KnownKey[];
  loadedAt: number;
}

interface KeySource {
  /** Whether `load` can return something new (Redis) or the keys are fixed (files). */
  refreshes: boolean;
  load(): Promise<Snapshot>;
  /** Rotates; with `unlessAlgorithm`, only if the current key is not already of that algorithm. */
  rotate(unlessAlgorithm?: SignerAlgorithm): Promise<{ kid: string; previous_kid: string }>;
}

/**
 * Builds the key ring and loads it: generates the first key if Redis has none (safe with replicas starting
 * together), and checks the KEK opens the stored keys. Throws SignerKeyError with a fix-it message.
 */
export async function createSignerKeyRing(deps: SignerKeyRingDeps): Promise<SignerKeyRing> {
  const source =
    deps.pemFiles !== undefined && deps.pemFiles.length > 0
      ? await fileSource(deps.pemFiles, deps.algorithm, deps.now)
      : redisSource(deps);
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

const toKnown = (record: KeyRecord): KnownKey => ({
  kid: record.kid,
  alg: record.alg,
  createdAt: record.created_at,
  retiredAt: record.retired_at,
  publicJwk: record.public_jwk,
});

/**
 * KEYS[1] keys hash, KEYS[2] current kid. ARGV[1] the kid to make current, ARGV[2..] kid/record JSON pairs
 * (a new key, or the keys adopted from the legacy names).
 * Result: the current kid — ARGV[1] if no key existed, else the one another replica stored first.
 */
const INITIALISE_SCRIPT = `
local existing = redis.call("GET", KEYS[2])
if existing then return existing end
redis.call("HSET", KEYS[1], unpack(ARGV, 2))
redis.call("SET", KEYS[2], ARGV[1])
return ARGV[1]`;

/**
 * KEYS[1] keys hash, KEYS[2] current kid. ARGV[1] expected current kid, ARGV[2] its record with
 * retired_at set, ARGV[3] new kid, ARGV[4] its record JSON.
 * Result: 1 rotated; 0 the current kid changed meanwhile (another replica rotated): re-read and retry.
 */
const ROTATE_SCRIPT = `
if redis.call("GET", KEYS[2]) ~= ARGV[1] then return 0 end
redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
redis.call("HSET", KEYS[1], ARGV[3], ARGV[4])
redis.call("SET", KEYS[2], ARGV[3])
return 1`;

function redisSource(deps: SignerKeyRingDeps): KeySource {
  const { redis, now, algorithm } = deps;
  const kek = deps.kek;
  if (kek === undefined || kek.length !== KEK_BYTES) {
    throw new SignerKeyError(
      kek === undefined ? "ERR_SIGNER_KEK_MISSING" : "ERR_SIGNER_KEK_INVALID",
      "signing keys kept in Redis need a 32-byte key-encryption key (make one with `openssl rand -base64 32`)",
    );
  }
  const keys = signerRedisKeys(deps.keyPrefix);
  const retentionMs = deps.retentionSeconds * 1000;
  let unsealed: SigningKey | undefined;

  async function readRecords(): Promise<{ currentKid: string | null; records: Map<string, KeyRecord> }> {
    const currentKid = await redis.get(keys.current);
    const records = new Map<string, KeyRecord>();
    for (const [field, json] of Object.entries(await redis.hgetall(keys.keys))) {
      const parsed = keyRecordSchema.safeParse(parseJson(json));
      if (!parsed.success || parsed.data.kid !== field) {
        throw new SignerKeyError(
          "ERR_SIGNER_KEY_RECORD",
          `signing key record ${field} in ${keys.keys} is malformed`,
        );
      }
      records.set(field, parsed.data);
    }
    return { currentKid, records };
  }

  async function generate(): Promise<{ record: KeyRecord; key: SigningKey }> {
    const pair = await generateKeyPair(algorithm, { extractable: true });
    const publicJwk = publicJwkSchema.parse(await exportJWK(pair.publicKey));
    const kid = await calculateJwkThumbprint(publicJwk, "sha256");
    const { kty, crv, x, y, d } = await exportJWK(pair.privateKey);
    const sealed = sealWithKek(kek!, JSON.stringify({ kty, crv, x, y, d }), kid);
    const record: KeyRecord = {
      kid,
      alg: algorithm,
      created_at: now(),
      retired_at: null,
      ...sealed,
      public_jwk: publicJwk,
    };
    return { record, key: { kid, alg: algorithm, privateKey: pair.privateKey } };
  }

  async function unseal(record: KeyRecord): Promise<SigningKey> {
    let privateJwk: string;
    try {
      privateJwk = openWithKek(kek!, record, record.kid);
    } catch (err) {
      throw new SignerKeyError(
        "ERR_SIGNER_KEK_MISMATCH",
        `the signing keys in Redis cannot be decrypted with this key-encryption key (key ${record.kid} in ${keys.keys}). ` +
          `Start the broker with the KEK the keys were created with; deleting ${keys.keys} and ${keys.current} ` +
          "makes it generate new keys but invalidates every token signed so far",
        { cause: err },
      );
    }
    const privateKey = await importJWK(privateJwkSchema.parse(JSON.parse(privateJwk)), record.alg);
    return { kid: record.kid, alg: record.alg, privateKey };
  }

  /** Copies a ring stored under the legacy key names (records are validated by the read that follows). */
  async function adoptLegacy(): Promise<boolean> {
    const legacyCurrent = await redis.get(keys.legacy.current);
    const legacyRecords = await redis.hgetall(keys.legacy.keys);
    if (legacyCurrent === null || !(legacyCurrent in legacyRecords)) return false;
    const pairs = Object.entries(legacyRecords).flat();
    await redis.eval(INITIALISE_SCRIPT, 2, keys.keys, keys.current, legacyCurrent, ...pairs);
    return true;
  }

  async function load(): Promise<Snapshot> {
    let { currentKid, records } = await readRecords();
    if (currentKid === null && !(await adoptLegacy())) {
      const first = await generate();
      const kid = first.record.kid;
      const winner = await redis.eval(
        INITIALISE_SCRIPT,
        2,
        keys.keys,
        keys.current,
        kid,
        kid,
        JSON.stringify(first.record),
      );
      if (winner === kid) unsealed = first.key;
    }
    if (currentKid === null) ({ currentKid, records } = await readRecords());
    const record = currentKid === null ? undefined : records.get(currentKid);
    if (record === undefined) {
      throw new SignerKeyError(
        "ERR_SIGNER_KEY_RECORD",
        `${keys.current} names key ${currentKid} but ${keys.keys} has no record of it`,
      );
    }
    if (unsealed?.kid !== record.kid) unsealed = await unseal(record);
    const at = now();
    const expired = [...records.values()].filter(
      (r) => r.kid !== record.kid && r.retired_at !== null && r.retired_at + retentionMs <= at,
    );
    if (expired.length > 0) await redis.hdel(keys.keys, ...expired.map((r) => r.kid));
    const known = [...records.values()].filter((r) => !expired.includes(r)).map(toKnown);
    return { current: unsealed, known, loadedAt: at };
  }

  async function rotate(unlessAlgorithm?: SignerAlgorithm): Promise<{ kid: string; previous_kid: string }> {
    for (let attempt = 1; attempt <= ROTATION_ATTEMPTS; attempt++) {
      const { currentKid, records } = await readRecords();
      const previous = currentKid === null ? undefined : records.get(currentKid);
      if (previous === undefined) {
        throw new SignerKeyError(
          "ERR_SIGNER_KEY_RECORD",
          `cannot rotate: ${keys.current} names no stored key`,
        );
      }
      if (previous.alg === unlessAlgorithm) return { kid: previous.kid, previous_kid: previous.kid };
      const next = await generate();
      const retired: KeyRecord = { ...previous, retired_at: now() };
      const swapped = await redis.eval(
        ROTATE_SCRIPT,
        2,
        keys.keys,
        keys.current,
        previous.kid,
        JSON.stringify(retired),
        next.record.kid,
        JSON.stringify(next.record),
      );
      if (swapped === 1) {
        unsealed = next.key;
        return { kid: next.record.kid, previous_kid: previous.kid };
      }
    }
    throw new Error(`signing key rotation raced with other replicas ${ROTATION_ATTEMPTS} times; try again`);
  }

  return { refreshes: true, load, rotate };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function fileSource(
  files: string[],
  algorithm: SignerAlgorithm,
  now: () => number,
): Promise<KeySource> {
  const loaded = await Promise.all(files.map(loadKeyFile));
  const first = loaded[0]!;
  if (first.key.alg !== algorithm) {
    throw new SignerKeyError(
      "ERR_SIGNER_KEY_FILE",
      `the signing key file ${files[0]} holds an ${first.key.alg} key but providers.signer.algorithm is ${algorithm}`,
    );
  }
  const known = [...new Map(loaded.map((file) => [file.known.kid, file.known])).values()];
  const snapshot: Snapshot = { current: first.key, known, loadedAt: now() };
  return {
    refreshes: false,
    load: async () => snapshot,
    rotate: async () => {
      throw new SignerKeyError(
        "ERR_SIGNER_ROTATION_UNSUPPORTED",
        "signing keys come from files (providers.signer.key_files): rotate by listing a new key file first, " +
          "keeping the old one listed until its tokens have expired, and restarting",
      );
    },
  };
}

async function loadKeyFile(file: string): Promise<{ key: SigningKey; known: KnownKey }> {
  const fail = (why: string, cause?: unknown): SignerKeyError =>
    new SignerKeyError("ERR_SIGNER_KEY_FILE", `signing key file ${file}: ${why}`, { cause });
  let pem: string;
  try {
    pem = await readFile(file, "utf8");
  } catch (err) {
    throw fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`, err);
  }
  if (!pem.includes("-----BEGIN PRIVATE KEY-----")) {
    throw fail(
      `is not an unencrypted PEM PKCS#8 private key; convert it with \`openssl pkcs8 -topk8 -nocrypt -in ${file}\``,
    );
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch (err) {
    throw fail("cannot be parsed as a private key", err);
  }
  const alg = algorithmOf(keyObject);
  if (alg === undefined) throw fail("must hold a P-256 (ES256) or Ed25519 (EdDSA) key");
  const publicJwk = publicJwkSchema.parse(createPublicKey(keyObject).export({ format: "jwk" }));
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  const privateKey = await importPKCS8(pem, alg);
  return {
    key: { kid, alg, privateKey },
    known: { kid, alg, createdAt: 0, retiredAt: null, publicJwk },
  };
}

function algorithmOf(key: KeyObject): SignerAlgorithm | undefined {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  return undefined;
}
