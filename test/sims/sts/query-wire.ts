import { randomUUID } from "node:crypto";

/**
 * The AWS Query protocol as the simulator speaks it: form-encoded parameters in, XML out, errors in the
 * `<ErrorResponse>` envelope (reference/sts.md §1.1, §1.8).
 */

export const STS_VERSION = "2011-06-15";
export const IAM_VERSION = "2010-05-08";
export const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
export const IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";

/** An AWS error as the simulator returns it: wire code, HTTP status and message. */
export class SimError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "SimError";
  }
}

/** `ValidationError` in the text STS really sends for a violated model constraint. */
export function validationError(value: string, param: string, rule: string): SimError {
  return new SimError(
    "ValidationError",
    400,
    `1 validation error detected: Value '${value}' at '${param}' failed to satisfy constraint: ${rule}`,
  );
}

/** The parsed form body of one call. */
export interface QueryParams {
  get(name: string): string | undefined;
  /** `Name.member.N` (and `Name.member.N.Sub`), counted from 1; `Name=` (empty) is an empty list. */
  members(name: string, sub?: string): string[];
  /** `Name.member.N.Key` / `.Value` pairs. */
  tags(name: string): { key: string; value: string }[];
}

export function parseQuery(body: string): QueryParams {
  const form = new URLSearchParams(body);
  const members = (name: string, sub?: string): string[] => {
    const found: string[] = [];
    for (let i = 1; ; i++) {
      const value = form.get(`${name}.member.${i}${sub ? `.${sub}` : ""}`);
      if (value === null) return found;
      found.push(value);
    }
  };
  return {
    get: (name) => form.get(name) ?? undefined,
    members,
    tags(name) {
      const keys = members(name, "Key");
      return keys.map((key, i) => ({ key, value: form.get(`${name}.member.${i + 1}.Value`) ?? "" }));
    },
  };
}

export function required(params: QueryParams, name: string): string {
  const value = params.get(name);
  if (value === undefined) {
    const camel = name.charAt(0).toLowerCase() + name.slice(1);
    throw validationError("null", camel, "Member must not be null");
  }
  return value;
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

export const xmlEscape = (text: string): string => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);

/** A nested XML fragment: element name → text, nested fragment, or list of fragments (`member`). */
export type XmlNode = string | number | boolean | undefined | { [element: string]: XmlNode } | XmlNode[];

export function toXml(node: XmlNode): string {
  if (node === undefined) return "";
  if (Array.isArray(node)) return node.map((item) => `<member>${toXml(item)}</member>`).join("");
  if (typeof node === "object") {
    return Object.entries(node)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `<${name}>${toXml(value)}</${name}>`)
      .join("");
  }
  return xmlEscape(String(node));
}

export interface WireResponse {
  status: number;
  body: string;
  requestId: string;
}

export function successResponse(
  action: string,
  namespace: string,
  result: { [element: string]: XmlNode } | null,
): WireResponse {
  const requestId = randomUUID();
  const inner = result === null ? "" : `<${action}Result>${toXml(result)}</${action}Result>`;
  const body =
    `<${action}Response xmlns="${namespace}">${inner}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  return { status: 200, body, requestId };
}

export function errorResponse(error: SimError, namespace: string): WireResponse {
  const requestId = randomUUID();
  const type = error.status >= 500 ? "Receiver" : "Sender";
  const body =
    `<ErrorResponse xmlns="${namespace}"><Error><Type>${type}</Type><Code>${xmlEscape(error.code)}</Code>` +
    `<Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status: error.status, body, requestId };
}

/** The caller's access key id from a SigV4 `Authorization` header; the signature itself is not checked. */
export function accessKeyOf(authorization: string | undefined): string | undefined {
  return authorization?.match(/Credential=([^/,\s]+)\//)?.[1];
}

/** `2026-07-15T12:15:00Z`: whole seconds, as STS prints times. */
export const awsTime = (ms: number): string =>
  `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
