import { createHmac } from "node:crypto";

/**
 * Keyed hash of a revocation handle (lease id, accessor, jti) for audit events: correlatable by whoever
 * holds the key, useless to anyone reading the log alone (the Vault audit-device approach).
 */
export type HandleHasher = (handle: string) => string;

export function createHandleHasher(key: Buffer): HandleHasher {
  return (handle) => `hmac-sha256:${createHmac("sha256", key).update(handle).digest("hex")}`;
}
