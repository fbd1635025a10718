import { CredbrokerError } from "./errors.js";
import type {
  ApprovalInfo,
  CredentialSecret,
  CredentialSummary,
  IssuedCredential,
  TaskInfo,
} from "./types.js";

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads fields of one JSON object, failing with `invalid_response` that names the field. */
class Fields {
  constructor(
    private readonly value: Json,
    private readonly what: string,
  ) {}

  static of(value: unknown, what: string): Fields {
    if (!isRecord(value)) throw invalid(`${what} is not a JSON object`);
    return new Fields(value, what);
  }

  private bad(key: string, expected: string): CredbrokerError {
    return invalid(`${this.what}.${key} is not ${expected}`);
  }

  str(key: string): string {
    const v = this.value[key];
    if (typeof v !== "string") throw this.bad(key, "a string");
    return v;
  }

  strOrNull(key: string): string | null {
    const v = this.value[key];
    if (v === null || v === undefined) return null;
    if (typeof v !== "string") throw this.bad(key, "a string or null");
    return v;
  }

  num(key: string): number {
    const v = this.value[key];
    if (typeof v !== "number") throw this.bad(key, "a number");
    return v;
  }

  numOrNull(key: string): number | null {
    const v = this.value[key];
    if (v === null || v === undefined) return null;
    if (typeof v !== "number") throw this.bad(key, "a number or null");
    return v;
  }

  bool(key: string): boolean {
    return this.value[key] === true;
  }

  strings(key: string): string[] {
    const v = this.value[key] ?? [];
    if (!Array.isArray(v) || !v.every((item) => typeof item === "string"))
      throw this.bad(key, "a string list");
    return v;
  }

  list(key: string): unknown[] {
    const v = this.value[key] ?? [];
    if (!Array.isArray(v)) throw this.bad(key, "a list");
    return v;
  }

  record(key: string): Json {
    const v = this.value[key] ?? {};
    if (!isRecord(v)) throw this.bad(key, "an object");
    return v;
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }
}

function invalid(message: string): CredbrokerError {
  return new CredbrokerError("invalid_response", `Unexpected answer from the broker: ${message}.`);
}

function stringMap(value: Json, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw invalid(`${what}.${key} is not a string`);
    out[key] = v;
  }
  return out;
}

function credentialSummary(value: unknown): CredentialSummary {
  const f = Fields.of(value, "credential");
  return {
    credentialId: f.str("credential_id"),
    profile: f.str("profile"),
    provider: f.str("provider"),
    state: f.str("state"),
    issuedAt: f.strOrNull("issued_at"),
    expiresAt: f.strOrNull("expires_at"),
    revokedAt: f.strOrNull("revoked_at"),
  };
}

/** The task object. */
export function decodeTask(value: unknown): TaskInfo {
  const f = Fields.of(value, "task");
  const initiator = f.has("initiator") ? Fields.of(f.record("initiator"), "task.initiator") : null;
  return {
    taskId: f.str("task_id"),
    state: f.str("state"),
    owner: f.str("owner"),
    agent: f.str("agent"),
    initiator: initiator ? { subject: initiator.str("subject"), verified: initiator.bool("verified") } : null,
    intent: f.str("intent"),
    labels: stringMap(f.record("labels"), "task.labels"),
    parentTaskId: f.strOrNull("parent_task_id"),
    depth: f.num("depth"),
    profiles: f.strings("profiles"),
    createdAt: f.str("created_at"),
    deadline: f.str("deadline"),
    closedAt: f.strOrNull("closed_at"),
    closeReason: f.strOrNull("close_reason"),
    credentials: f.list("credentials").map(credentialSummary),
    children: f.strings("children"),
    taskToken: f.has("task_token") ? f.str("task_token") : null,
  };
}

const SECRET_STRINGS = [
  "token",
  "token_type",
  "lease_id",
  "accessor",
  "access_key_id",
  "secret_access_key",
  "session_token",
  "expiration",
] as const;

function decodeSecret(value: Json): CredentialSecret {
  for (const key of SECRET_STRINGS) {
    if (value[key] !== undefined && typeof value[key] !== "string")
      throw invalid(`secret.${key} is not a string`);
  }
  if (value.data !== undefined && !isRecord(value.data)) throw invalid("secret.data is not an object");
  return { ...value };
}

/** The one-time `201` credential answer; the secret is attached non-enumerable. */
export function decodeIssued(value: unknown): IssuedCredential {
  const f = Fields.of(value, "credential");
  const downstream = Fields.of(f.record("downstream"), "credential.downstream");
  const secret = decodeSecret(f.record("secret"));
  const credential = {
    kind: "credential" as const,
    credentialId: f.str("credential_id"),
    taskId: f.str("task_id"),
    profile: f.str("profile"),
    provider: f.str("provider"),
    issuedAt: f.str("issued_at"),
    expiresAt: f.str("expires_at"),
    ttlSeconds: f.num("ttl_seconds"),
    scopes: f.strings("scopes"),
    downstream: { account: downstream.strOrNull("account") },
    notes: f.strings("notes"),
  };
  Object.defineProperty(credential, "secret", { value: Object.freeze(secret), enumerable: false });
  return credential as IssuedCredential;
}

/** The `202` answer to a credential request that needs a human's approval. */
export function decodePending(value: unknown): { approvalId: string; expiresAt: string } {
  const f = Fields.of(value, "approval");
  return { approvalId: f.str("approval_id"), expiresAt: f.str("expires_at") };
}

/** An approval view, with the credential when this read redeemed it. */
export function decodeApproval(value: unknown): {
  approval: ApprovalInfo;
  credential: IssuedCredential | null;
} {
  const f = Fields.of(value, "approval");
  const approval: ApprovalInfo = {
    approvalId: f.str("approval_id"),
    state: f.str("state"),
    taskId: f.str("task_id"),
    requester: f.str("requester"),
    profile: f.str("profile"),
    scopes: f.strings("scopes"),
    ttlSeconds: f.numOrNull("ttl_seconds"),
    reason: f.strOrNull("reason") ?? "",
    policyIds: f.strings("policy_ids"),
    createdAt: f.str("created_at"),
    expiresAt: f.str("expires_at"),
    decidedBy: f.strOrNull("decided_by"),
    decidedAt: f.strOrNull("decided_at"),
    comment: f.strOrNull("comment"),
    credentialIssued: f.bool("credential_issued"),
    credentialId: f.strOrNull("credential_id"),
    note: f.strOrNull("note"),
  };
  return { approval, credential: f.has("credential") ? decodeIssued(f.record("credential")) : null };
}

/** `GET /v1/approvals`: the pending approvals the caller may decide. */
export function decodeApprovalList(value: unknown): ApprovalInfo[] {
  return Fields.of(value, "approvals")
    .list("approvals")
    .map((item) => decodeApproval(item).approval);
}
