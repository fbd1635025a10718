import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { CedarValue, PolicyPrincipal, PolicyRequest } from "../../../src/policy/policy-types.js";
import { createLogger, type Logger } from "../../../src/shared/logger.js";

/** The repository root, where `policies/` and `examples/policies/` live. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** A fresh temp directory holding `files` (relative path → content); removed by `cleanup`. */
export function policyDir(files: Record<string, string>): {
  dir: string;
  write: typeof writeFiles;
  cleanup(): void;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "credbroker-policy-"));
  writeFiles(files, dir);
  return { dir, write: writeFiles, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function writeFiles(files: Record<string, string>, dir: string): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}

/** A real pino logger whose JSON lines are kept in memory. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: createLogger({ level: "debug", destination }), lines };
}

export const agent: PolicyPrincipal = {
  id: "ci:system:serviceaccount:agents:summariser",
  issuer: "ci",
  subject: "system:serviceaccount:agents:summariser",
  kind: "kubernetes",
  tags: { namespace: "agents", service_account: "summariser" },
};

export const outsider: PolicyPrincipal = {
  id: "ci:system:serviceaccount:default:builder",
  issuer: "ci",
  subject: "system:serviceaccount:default:builder",
  kind: "kubernetes",
  tags: { namespace: "default", service_account: "builder" },
};

export const operator: PolicyPrincipal = {
  id: "ci:operator",
  issuer: "ci",
  subject: "operator",
  kind: "oidc",
  tags: {},
};

export function taskInfo(overrides: Record<string, CedarValue> = {}): Record<string, CedarValue> {
  return {
    id: "tsk_root",
    intent: "Summarise Q3 incidents",
    initiator: "alice@example.com",
    initiator_verified: true,
    owner: agent.id,
    agent: agent.id,
    depth: 0,
    remaining_seconds: 900,
    profiles: ["tickets-api"],
    parent_id: "",
    ...overrides,
  };
}

export function taskRequest(
  action: "OpenTask" | "DelegateTask" | "CloseTask" | "ReadTask",
  principal: PolicyPrincipal,
  depth = 0,
): PolicyRequest {
  return {
    action,
    principal,
    resource: {
      type: "Task",
      id: "tsk_root",
      attrs: {
        intent: "Summarise Q3 incidents",
        initiator: "alice@example.com",
        owner: agent.id,
        agent: agent.id,
        depth,
      },
      tags: { ticket: "INC-42" },
    },
    context: { task: taskInfo({ depth }), now: 1_800_000_000 },
  };
}

export interface CredentialAsk {
  profile?: string;
  scopes?: string[];
  approved?: boolean;
  ttlSeconds?: number;
}

export function credentialRequest(principal: PolicyPrincipal, ask: CredentialAsk = {}): PolicyRequest {
  const profile = ask.profile ?? "tickets-api";
  return {
    action: "RequestCredential",
    principal,
    resource: { type: "Profile", id: profile, provider: "signer" },
    context: {
      task: taskInfo(),
      profile,
      provider: "signer",
      ttl_seconds: ask.ttlSeconds ?? 300,
      scopes: ask.scopes ?? ["tickets:read"],
      reason: "list open incidents",
      approved: ask.approved ?? false,
      now: 1_800_000_000,
    },
  };
}

/** The identity a principal id alone gives (no e-mail or username claims). */
function identityOf(principalId: string): Record<string, CedarValue> {
  const [issuer = "", ...rest] = principalId.split(":");
  return { issuer, subject: rest.join(":"), email: "", username: "" };
}

export function approveRequest(principal: PolicyPrincipal, requester: string): PolicyRequest {
  const base = credentialRequest(agent, { scopes: ["tickets:write"] });
  const context = {
    ...base.context,
    requester,
    requester_identity: identityOf(requester),
    approver_identity: identityOf(principal.id),
  };
  return { ...base, action: "Approve", principal, context };
}

export function brokerRequest(
  action: "ReadAudit" | "RotateKeys" | "EmergencyRevoke",
  principal: PolicyPrincipal,
): PolicyRequest {
  const context: Record<string, CedarValue> =
    action === "EmergencyRevoke"
      ? {
          selector_kind: "agent",
          selector_value: agent.id,
          reason: "incident",
          dry_run: true,
          now: 1_800_000_000,
        }
      : { now: 1_800_000_000 };
  return { action, principal, resource: { type: "Broker" }, context };
}

/** A resource server declared for the tickets API's audience, as the policy sees it. */
export const ticketsResourceServer: PolicyPrincipal = {
  id: "rs:tickets-api",
  issuer: "rs",
  subject: "tickets-api",
  kind: "resource_server",
  tags: {},
  resourceServer: { audiences: ["https://tickets.internal"] },
};

/** `Introspect` of a tickets-api token issued to `agent`; `audience` is the token's `aud`. */
export function introspectRequest(
  principal: PolicyPrincipal,
  ask: { audience?: string; callerIsAgent?: boolean } = {},
): PolicyRequest {
  return {
    action: "Introspect",
    principal,
    resource: { type: "Profile", id: "tickets-api", provider: "signer" },
    context: {
      audience: ask.audience ?? "https://tickets.internal",
      scopes: ["tickets:read"],
      task_id: "tsk_root",
      agent: agent.id,
      caller_is_agent: ask.callerIsAgent ?? false,
      now: 1_800_000_000,
    },
  };
}

/** `SubscribeSignals`: a push stream for the principal's audiences. */
export function subscribeRequest(principal: PolicyPrincipal): PolicyRequest {
  return {
    action: "SubscribeSignals",
    principal,
    resource: { type: "Broker" },
    context: {
      audiences: principal.resourceServer?.audiences ?? [],
      delivery_method: "urn:ietf:rfc:8935",
      endpoint_url: "https://tickets.internal/ssf/events",
      now: 1_800_000_000,
    },
  };
}
