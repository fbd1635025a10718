import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { exportJWK, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSignerKeyRing,
  SignerKeyError,
  type SignerKeyRingDeps,
  signerRedisKeys,
} from "../../../providers/signer/signer-keys.js";
import { connectTestRedis, deleteTestKeys, randomKek, testClock, testPrefix } from "./signer-fixtures.js";

const RETENTION_SECONDS = 3_600;

let redis: Redis;
const prefixes: string[] = [];

beforeAll(() => {
  redis = connectTestRedis();
});
afterAll(async () => {
  for (const prefix of prefixes) await deleteTestKeys(redis, prefix);
  await redis.quit();
});

function ringDeps(overrides: Partial<SignerKeyRingDeps> = {}): SignerKeyRingDeps {
  const keyPrefix = overrides.keyPrefix ?? testPrefix();
  prefixes.push(keyPrefix);
  return {
    redis,
    keyPrefix,
    kek: randomKek(),
    algorithm: "ES256",
    now: testClock().now,
    retentionSeconds: RETENTION_SECONDS,
    ...overrides,
  };
}

async function startError(deps: SignerKeyRingDeps): Promise<SignerKeyError> {
  const err = await createSignerKeyRing(deps).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof SignerKeyError) return err;
  throw new Error(`expected a SignerKeyError, got ${String(err)}`);
}

async function signsVerifiably(deps: SignerKeyRingDeps): Promise<string> {
  const ring = await createSignerKeyRing(deps);
  const signing = await ring.current();
  const token = await new SignJWT({ sub: "x" })
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid })
    .sign(signing.privateKey);
  const verification = await ring.verificationKey(signing.kid);
  await jwtVerify(token, verification!.publicKey);
  return signing.kid;
}

describe("signing keys kept in Redis", () => {
  it("are generated on first start and stored sealed: no private key material in clear", async () => {
    const deps = ringDeps();
    const ring = await createSignerKeyRing(deps);
    const { kid, privateKey } = await ring.current();
    const d = (await exportJWK(privateKey)).d!;
    const keys = signerRedisKeys(deps.keyPrefix);
    expect(await redis.get(keys.current)).toBe(kid);
    const stored = await redis.hgetall(keys.keys);
    expect(Object.keys(stored)).toEqual([kid]);
    const raw = stored[kid]!;
    expect(raw).not.toContain('"d"');
    expect(raw).not.toContain(d);
    expect(JSON.parse(raw)).toMatchObject({ kid, alg: "ES256", retired_at: null, public_jwk: { kty: "EC" } });
  });

  it("a replica with the same KEK reuses the stored key", async () => {
    const deps = ringDeps();
    const first = await createSignerKeyRing(deps);
    const second = await createSignerKeyRing({ ...deps });
    expect((await second.current()).kid).toBe((await first.current()).kid);
    expect(await signsVerifiably(deps)).toBe((await first.current()).kid);
  });

  it("adopts a ring stored under the untagged key names, so tokens signed before an upgrade still verify", async () => {
    const deps = ringDeps();
    const before = await createSignerKeyRing(deps);
    const { kid } = await before.current();
    const keys = signerRedisKeys(deps.keyPrefix);
    await redis.rename(keys.keys, keys.legacy.keys);
    await redis.rename(keys.current, keys.legacy.current);
    const after = await createSignerKeyRing({ ...deps });
    expect((await after.current()).kid).toBe(kid);
    expect(await redis.get(keys.current)).toBe(kid);
    expect(Object.keys(await redis.hgetall(keys.keys))).toEqual([kid]);
  });

  it("a wrong KEK stops the start with a clear error", async () => {
    const deps = ringDeps();
    await createSignerKeyRing(deps);
    const err = await startError({ ...deps, kek: randomKek() });
    expect(err.code).toBe("ERR_SIGNER_KEK_MISMATCH");
    expect(err.message).toContain(
      "the signing keys in Redis cannot be decrypted with this key-encryption key",
    );
  });

  it("replicas starting at the same time agree on one signing key", async () => {
    const deps = ringDeps();
    const rings = await Promise.all(Array.from({ length: 5 }, () => createSignerKeyRing({ ...deps })));
    const kids = await Promise.all(rings.map(async (ring) => (await ring.current()).kid));
    expect(new Set(kids).size).toBe(1);
    expect(Object.keys(await redis.hgetall(signerRedisKeys(deps.keyPrefix).keys))).toEqual([kids[0]]);
  });

  it("the JWKS publishes kid, alg and use for each key and never a private member", async () => {
    const ring = await createSignerKeyRing(ringDeps());
    const { kid } = await ring.current();
    const { keys } = await ring.publicJwks();
    expect(keys).toEqual([
      {
        kty: "EC",
        crv: "P-256",
        x: expect.any(String),
        y: expect.any(String),
        kid,
        alg: "ES256",
        use: "sig",
      },
    ]);
  });

  it("EdDSA keys can be chosen instead of ES256", async () => {
    const deps = ringDeps({ algorithm: "EdDSA" });
    const ring = await createSignerKeyRing(deps);
    expect((await ring.current()).alg).toBe("EdDSA");
    expect((await ring.publicJwks()).keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    await signsVerifiably(deps);
  });

  it("changing the configured algorithm rotates to a key of that algorithm at start", async () => {
    const deps = ringDeps();
    const old = await (await createSignerKeyRing(deps)).current();
    const ring = await createSignerKeyRing({ ...deps, algorithm: "EdDSA" });
    expect((await ring.current()).alg).toBe("EdDSA");
    expect((await ring.publicJwks()).keys.map((key) => key.kid)).toContain(old.kid);
  });
});

describe("rotating signing keys", () => {
  it("the new key signs; the old one stays published until retention ends, then is pruned from Redis", async () => {
    const clock = testClock();
    const deps = ringDeps({ now: clock.now });
    const ring = await createSignerKeyRing(deps);
    const old = await ring.current();

    const rotated = await ring.rotate();
    expect(rotated.previous_kid).toBe(old.kid);
    expect(rotated.kid).not.toBe(old.kid);
    expect((await ring.current()).kid).toBe(rotated.kid);
    expect((await ring.publicJwks()).keys.map((key) => key.kid)).toEqual([rotated.kid, old.kid]);
    expect(await ring.verificationKey(old.kid)).toBeDefined();

    clock.advance(RETENTION_SECONDS * 1000 - 1);
    expect((await ring.publicJwks()).keys.map((key) => key.kid)).toContain(old.kid);
    clock.advance(1);
    expect((await ring.publicJwks()).keys.map((key) => key.kid)).toEqual([rotated.kid]);
    expect(await ring.verificationKey(old.kid)).toBeUndefined();

    clock.advance(5_000);
    await ring.current();
    expect(Object.keys(await redis.hgetall(signerRedisKeys(deps.keyPrefix).keys))).toEqual([rotated.kid]);
  });

  it("a rotation on one replica reaches the others within the 5 s refresh", async () => {
    const clock = testClock();
    const deps = ringDeps({ now: clock.now });
    const here = await createSignerKeyRing(deps);
    const there = await createSignerKeyRing({ ...deps });
    const old = await here.current();

    const { kid } = await there.rotate();
    expect((await here.current()).kid).toBe(old.kid);
    clock.advance(5_000);
    expect((await here.current()).kid).toBe(kid);
  });

  it("a key rotated elsewhere verifies at once: an unknown kid triggers an early refresh", async () => {
    const clock = testClock();
    const deps = ringDeps({ now: clock.now });
    const here = await createSignerKeyRing(deps);
    const there = await createSignerKeyRing({ ...deps });
    const { kid } = await there.rotate();
    clock.advance(1_000);
    expect((await here.verificationKey(kid))?.kid).toBe(kid);
  });
});

describe("signing keys from PEM files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "credbroker-signer-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function keyFile(name: string, type: "ec" | "ed25519", format: "pkcs8" | "sec1" = "pkcs8") {
    const { privateKey } =
      type === "ec" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
    const file = join(dir, name);
    await writeFile(file, privateKey.export({ type: format, format: "pem" }));
    return file;
  }

  it("the first file signs, all are published, and nothing is stored in Redis", async () => {
    const files = [await keyFile("current.pem", "ec"), await keyFile("previous.pem", "ed25519")];
    const deps = ringDeps({ pemFiles: files, kek: undefined });
    const ring = await createSignerKeyRing(deps);
    const current = await ring.current();
    const { keys } = await ring.publicJwks();
    expect(keys.map((key) => [key.kid, key.alg])).toEqual([
      [current.kid, "ES256"],
      [expect.any(String), "EdDSA"],
    ]);
    expect(await ring.verificationKey(keys[1]!.kid)).toBeDefined();
    expect(await redis.keys(`${deps.keyPrefix}:*`)).toEqual([]);
    await signsVerifiably(deps);
  });

  it("refuse rotation through the broker", async () => {
    const ring = await createSignerKeyRing(ringDeps({ pemFiles: [await keyFile("only.pem", "ec")] }));
    await expect(ring.rotate()).rejects.toMatchObject({ code: "ERR_SIGNER_ROTATION_UNSUPPORTED" });
  });

  it("a key that is not PKCS#8 is refused with how to convert it", async () => {
    const file = await keyFile("sec1.pem", "ec", "sec1");
    const err = await startError(ringDeps({ pemFiles: [file] }));
    expect(err.code).toBe("ERR_SIGNER_KEY_FILE");
    expect(err.message).toContain(file);
    expect(err.message).toContain("openssl pkcs8 -topk8");
  });

  it("the signing file must match the configured algorithm", async () => {
    const err = await startError(
      ringDeps({ pemFiles: [await keyFile("ed.pem", "ed25519")], algorithm: "ES256" }),
    );
    expect(err.code).toBe("ERR_SIGNER_KEY_FILE");
    expect(err.message).toContain("EdDSA");
  });
});
