import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from "jose";
import { z } from "zod";
import { KEK_BYTES, openWithKek, SignerKeyError, sealWithKek } from "./kek.js";
import {
  type KeySource,
  type KnownKey,
  publicJwkSchema,
  type SignerAlgorithm,
  type SignerKeyRingDeps,
  type SigningKey,
  type Snapshot,
} from "./signer-key-types.js";
import { signerRedisKeys } from "./signer-redis-keys.js";

/**
 * The key source that generates keys and keeps them in Redis, the private half sealed under the KEK, so
 * every replica signs with the same key. Generates the first key (once, whichever replica starts first),
 * rotates with a compare-and-swap, and prunes retired keys past retention.
 */

const ROTATION_ATTEMPTS = 3;

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

export function redisKeySource(deps: Omit<SignerKeyRingDeps, "pemFiles">): KeySource {
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
