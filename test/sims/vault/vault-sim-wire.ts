import { randomBytes, randomUUID } from "node:crypto";

/**
 * Vault's wire conventions, reproduced for the simulator: the response envelope, error bodies, Go-style
 * duration strings, and opaque identifiers shaped like Vault's (base62, `hvs.` tokens).
 */

/** What a route handler answers; the server turns it into an HTTP response. */
export type SimReply = { status: 200; body: Record<string, unknown> } | { status: 202 | 204 };

/** A Vault error response: `{"errors": [...]}` with the given status. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors[0] ?? `status ${status}`);
  }
}

/** How Vault formats ACL denials (a go-multierror with one entry). */
export const PERMISSION_DENIED = "1 error occurred:\n\t* permission denied\n\n";

export const denied = (): SimHttpError => new SimHttpError(403, [PERMISSION_DENIED]);
export const badRequest = (message: string): SimHttpError => new SimHttpError(400, [message]);

export interface EnvelopeParts {
  data?: Record<string, unknown> | null;
  auth?: Record<string, unknown> | null;
  lease?: { id: string; duration: number; renewable: boolean };
  warnings?: string[];
  mountType?: string;
}

/**
 * The success envelope every Vault JSON response has (`sdk/logical/translate_response.go`). For `sys/` paths
 * Vault also copies the keys of `data` to the top level (`HTTPSysInjector`).
 */
export function envelope(path: string, parts: EnvelopeParts): SimReply {
  const body: Record<string, unknown> = {
    request_id: randomUUID(),
    lease_id: parts.lease?.id ?? "",
    renewable: parts.lease?.renewable ?? false,
    lease_duration: parts.lease?.duration ?? 0,
    data: parts.data ?? null,
    wrap_info: null,
    warnings: parts.warnings && parts.warnings.length > 0 ? parts.warnings : null,
    auth: parts.auth ?? null,
    mount_type: parts.mountType ?? "",
  };
  if (path.startsWith("sys/") && parts.data) return { status: 200, body: { ...parts.data, ...body } };
  return { status: 200, body };
}

export const noContent = (): SimReply => ({ status: 204 });

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A random base62 string, the alphabet Vault uses for accessors, lease suffixes and tokens. */
export function base62(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = "";
  for (const byte of bytes) {
    if (byte < 248) out += BASE62[byte % 62];
    if (out.length === length) return out;
  }
  return out + base62(length - out.length);
}

/** Go's `time.Duration.String()` for whole seconds: `30s`, `5m0s`, `1h0m0s`. */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/**
 * Vault's `TypeDurationSecond` input: an integer of seconds, or a Go duration string (`"90s"`, `"1h30m"`, a
 * bare `"300"`). Undefined when absent; a 400 when malformed.
 */
export function parseDuration(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number" && Number.isFinite(value)) return Math.floor(value);
  if (typeof value === "string") {
    if (/^\d+$/.test(value)) return Number(value);
    const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length > 0 && parts.map((p) => p[0]).join("") === value) {
      return Math.floor(parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_SECONDS[p[2] ?? "s"] ?? 1), 0));
    }
  }
  throw badRequest(`error converting input ${JSON.stringify(value)} for field "${field}"`);
}

/** RFC 3339 with nanoseconds, as Go's `time.RFC3339Nano` prints it. */
export const rfc3339 = (ms: number): string =>
  new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");

/** The warning Vault adds when a requested TTL is capped (`framework.CalculateTTL`). */
export const ttlCappedWarning = (requested: number, max: number): string =>
  `TTL of "${goDuration(requested)}" exceeded the effective max_ttl of "${goDuration(max)}"; TTL value is capped accordingly`;

/** Reads a string field from a request body. */
export function stringField(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  return typeof value === "string" ? value : "";
}

/** Vault accepts lists as JSON arrays or comma-separated strings. */
export function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string" && v.length > 0);
  if (typeof value === "string")
    return value
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
  return [];
}

export function booleanField(body: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = body[key];
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return fallback;
}
