import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * The key-encryption key (KEK) that seals the signer's private keys at rest in Redis: loading it from an
 * env var or a file, and AES-256-GCM sealing with it. The KEK itself is never logged nor put in an error.
 */

/** Stable codes for signer key problems; branch on these, never on message text. */
export type SignerKeyErrorCode =
  /** No KEK in the env var nor the file. */
  | "ERR_SIGNER_KEK_MISSING"
  /** The KEK is not 32 bytes of base64 or hex, or its file cannot be read. */
  | "ERR_SIGNER_KEK_INVALID"
  /** The keys stored in Redis were sealed under another KEK. */
  | "ERR_SIGNER_KEK_MISMATCH"
  /** A stored key record is malformed. */
  | "ERR_SIGNER_KEY_RECORD"
  /** A PEM key file is missing, unreadable, not PKCS#8, or of an unsupported type. */
  | "ERR_SIGNER_KEY_FILE"
  /** Keys come from files: rotation is done by changing the files, not through the broker. */
  | "ERR_SIGNER_ROTATION_UNSUPPORTED";

/** A signer key-ring or KEK problem, usually at startup; the message says what to fix. */
export class SignerKeyError extends Error {
  readonly code: SignerKeyErrorCode;
  constructor(code: SignerKeyErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "SignerKeyError";
    this.code = code;
  }
}

/** KEK length in bytes (AES-256). */
export const KEK_BYTES = 32;

const MAKE_ONE = "make one with `openssl rand -base64 32`";

/** Where the KEK comes from: `providers.signer.kek_env` / `kek_file`, and the process environment. */
export interface KekSource {
  /** Name of the env var holding the KEK, e.g. `CREDBROKER_SIGNER_KEK`. */
  env: string;
  /** File holding the KEK (e.g. a mounted Kubernetes secret); wins over the env var when set. */
  file?: string | undefined;
  /** The environment to read `env` from (pass `process.env`). */
  variables: Readonly<Record<string, string | undefined>>;
}

/**
 * Loads the 32-byte KEK, written as base64 (standard or url-safe) or 64 hex digits, from `file` when set,
 * else from the env var `env`. Throws SignerKeyError naming the env var or file and how to make a key.
 */
export function loadKek({ env, file, variables }: KekSource): Buffer {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? "unreadable";
      throw new SignerKeyError(
        "ERR_SIGNER_KEK_INVALID",
        `cannot read the signer key-encryption key file ${file} (${reason}); it must hold 32 random bytes in base64 (${MAKE_ONE})`,
      );
    }
    return decodeKek(text, `the file ${file}`);
  }
  const value = variables[env];
  if (value === undefined || value.trim() === "") {
    throw new SignerKeyError(
      "ERR_SIGNER_KEK_MISSING",
      `the signer key-encryption key is not set: put 32 random bytes in base64 in the env var ${env} (${MAKE_ONE}), or point providers.signer.kek_file at a file holding them`,
    );
  }
  return decodeKek(value, `the env var ${env}`);
}

function decodeKek(text: string, where: string): Buffer {
  const trimmed = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, "hex");
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) key = Buffer.from(trimmed, "base64");
  if (key === undefined || key.length !== KEK_BYTES) {
    const got = key === undefined ? "not base64 or hex" : `${key.length} bytes`;
    throw new SignerKeyError(
      "ERR_SIGNER_KEK_INVALID",
      `the signer key-encryption key in ${where} must be 32 bytes written as base64 or hex (got ${got}); ${MAKE_ONE}`,
    );
  }
  return key;
}

/** AES-256-GCM output, each part base64url. */
export interface SealedSecret {
  /** Random 12-byte nonce. */
  iv: string;
  ciphertext: string;
  /** 16-byte GCM authentication tag. */
  tag: string;
}

/** Encrypts `plaintext` under the KEK with AES-256-GCM, binding `aad` (e.g. the key's kid). */
export function sealWithKek(kek: Buffer, plaintext: string, aad: string): SealedSecret {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", kek, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return {
    iv: iv.toString("base64url"),
    ciphertext: ciphertext.toString("base64url"),
    tag: cipher.getAuthTag().toString("base64url"),
  };
}

/**
 * Decrypts what `sealWithKek` produced. Throws (Node's GCM authentication error) when the KEK, the `aad`
 * or any sealed part differs; callers turn that into an error their operators understand.
 */
export function openWithKek(kek: Buffer, sealed: SealedSecret, aad: string): string {
  const decipher = createDecipheriv("aes-256-gcm", kek, Buffer.from(sealed.iv, "base64url"), {
    authTagLength: 16,
  });
  decipher.setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(Buffer.from(sealed.tag, "base64url"));
  const plaintext = Buffer.concat([
    decipher.update(Buffer.from(sealed.ciphertext, "base64url")),
    decipher.final(),
  ]);
  return plaintext.toString("utf8");
}
