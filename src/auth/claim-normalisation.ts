import type { IssuerKind } from "../config/config-schema.js";
import { BrokerError } from "../shared/errors.js";

/**
 * Turns a verified assertion payload into the flat, string-valued tags the policy engine matches on
 * (standards.md §1.2–1.6). Only claims present in the payload become tags; numbers and booleans are
 * coerced to strings so a policy never has to care that GitLab sends `"project_id": "20"` while GitHub
 * sends numbers as strings and some OIDC issuers send real numbers.
 */
export function normaliseClaims(kind: IssuerKind, payload: Record<string, unknown>): Record<string, string> {
  switch (kind) {
    case "kubernetes":
      return kubernetesTags(payload);
    case "github":
      return pickScalars(payload, GITHUB_CLAIMS);
    case "gitlab":
      return pickScalars(payload, GITLAB_CLAIMS);
    case "spiffe":
      return spiffeTags(payload.sub);
    case "oidc":
      return oidcTags(payload);
  }
}

const GITHUB_CLAIMS = [
  "repository",
  "repository_id",
  "repository_owner",
  "repository_owner_id",
  "ref",
  "ref_type",
  "environment",
  "workflow",
  "workflow_ref",
  "job_workflow_ref",
  "actor",
  "actor_id",
  "event_name",
  "runner_environment",
  "sha",
] as const;

const GITLAB_CLAIMS = [
  "project_path",
  "project_id",
  "namespace_path",
  "namespace_id",
  "ref",
  "ref_type",
  "ref_protected",
  "environment",
  "user_login",
  "pipeline_source",
  "runner_environment",
] as const;

/** Registered JWT claims: validated by the verifier, never policy tags. */
const REGISTERED_CLAIMS = new Set(["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]);

/** `spiffe://<trust domain>/<path>`: lowercase trust domain, non-empty path of unreserved segments. */
const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]{1,255})((?:\/[A-Za-z0-9._-]+)+)$/;
const MAX_SPIFFE_ID_BYTES = 2048;

function kubernetesTags(payload: Record<string, unknown>): Record<string, string> {
  const k8s = asRecord(payload["kubernetes.io"]);
  if (!k8s) return {};
  const serviceAccount = asRecord(k8s.serviceaccount);
  const pod = asRecord(k8s.pod);
  const node = asRecord(k8s.node);
  return tagsFrom([
    ["namespace", k8s.namespace],
    ["service_account", serviceAccount?.name],
    ["service_account_uid", serviceAccount?.uid],
    ["pod", pod?.name],
    ["pod_uid", pod?.uid],
    ["node", node?.name],
  ]);
}

function spiffeTags(sub: unknown): Record<string, string> {
  const match =
    typeof sub === "string" && Buffer.byteLength(sub) <= MAX_SPIFFE_ID_BYTES ? SPIFFE_ID.exec(sub) : null;
  const path = match?.[2];
  const hasDotSegment = path?.split("/").some((segment) => segment === "." || segment === "..") ?? true;
  if (!match || !path || hasDotSegment) {
    throw new BrokerError(
      "invalid_assertion",
      "The assertion's subject is not a SPIFFE ID (spiffe://<trust domain>/<path>).",
      {
        details: { reason: "invalid_subject" },
      },
    );
  }
  return tagsFrom([
    ["trust_domain", match[1]],
    ["path", path],
  ]);
}

function oidcTags(payload: Record<string, unknown>): Record<string, string> {
  return tagsFrom(Object.entries(payload).filter(([name]) => !REGISTERED_CLAIMS.has(name)));
}

function pickScalars(payload: Record<string, unknown>, names: readonly string[]): Record<string, string> {
  return tagsFrom(names.map((name) => [name, payload[name]]));
}

/** Keeps string, finite number and boolean values, as strings. `Object.fromEntries` keeps `__proto__` inert. */
function tagsFrom(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, string> {
  const kept: Array<[string, string]> = [];
  for (const [name, value] of entries) {
    const text = scalarToString(value);
    if (text !== undefined) kept.push([name, text]);
  }
  return Object.fromEntries(kept);
}

function scalarToString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
