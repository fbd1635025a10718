import { randomBytes } from "node:crypto";

export type IdPrefix = "tsk" | "crd" | "apr" | "rev" | "req" | "ver" | "str" | "set";

/** Opaque, URL-safe ids with a type prefix: 128 random bits in base64url. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(16).toString("base64url")}`;
}

const ID_PATTERN = /^(tsk|crd|apr|rev|str)_[A-Za-z0-9_-]{10,64}$/;

export function isId(prefix: IdPrefix, value: string): boolean {
  return ID_PATTERN.test(value) && value.startsWith(`${prefix}_`);
}
