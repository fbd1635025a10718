import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { calculateJwkThumbprint, importPKCS8 } from "jose";
import { SignerKeyError } from "./kek.js";
import {
  type KeySource,
  type KnownKey,
  publicJwkSchema,
  type SignerAlgorithm,
  type SigningKey,
  type Snapshot,
} from "./signer-key-types.js";

/**
 * The key source over PEM PKCS#8 files (`providers.signer.key_files`): the first file signs, all are
 * published, nothing is stored, and rotation is done by changing the files.
 */

export async function pemFileKeySource(
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
