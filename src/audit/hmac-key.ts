import { randomBytes } from "node:crypto";
import type { Logger } from "../shared/logger.js";

/**
 * The key for keyed hashes of handles in audit events, from the env var `audit.hmac_key_env` names (base64,
 * ≥ 32 bytes). Without one, a per-process key: hashes then do not correlate across replicas or restarts.
 */
export function readAuditHmacKey(
  envName: string,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Buffer {
  const raw = env[envName];
  if (raw) {
    const key = Buffer.from(raw, "base64");
    if (key.length < 32) {
      throw new Error(
        `${envName} must hold at least 32 bytes, base64-encoded (make one with: openssl rand -base64 32)`,
      );
    }
    return key;
  }
  logger.warn(
    { env: envName },
    "no audit HMAC key set: handle hashes use a per-process key and will not correlate across replicas or restarts",
  );
  return randomBytes(32);
}
