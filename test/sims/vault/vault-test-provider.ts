import type { IssueRequest } from "../../../providers/provider.js";
import type { VaultProfile } from "../../../providers/vault/vault-config.js";
import { createVaultProvider } from "../../../providers/vault/vault-provider.js";
import {
  createVaultSession,
  type VaultLogger,
  type VaultLogin,
  type VaultSession,
} from "../../../providers/vault/vault-session.js";
import { createVaultTransport, type VaultTransport } from "../../../providers/vault/vault-transport.js";

/** The Vault profiles tests use, matching the sim fixtures' roles and policies. */
export const VAULT_PROFILES = {
  "reports-db": {
    provider: "vault",
    mode: "secret",
    path: "database/creds/reports-ro",
    max_ttl_seconds: 900,
  },
  "tickets-db": {
    provider: "vault",
    mode: "secret",
    path: "database/creds/tickets-rw",
    max_ttl_seconds: 900,
  },
  "reports-token": { provider: "vault", mode: "token", policies: ["reports-read"], max_ttl_seconds: 900 },
  "one-shot-token": {
    provider: "vault",
    mode: "token",
    policies: ["reports-read"],
    max_ttl_seconds: 900,
    num_uses: 3,
  },
} satisfies Record<string, VaultProfile>;

export const silentLogger: VaultLogger = { info: () => {}, warn: () => {} };

export interface TestVaultProvider {
  provider: ReturnType<typeof createVaultProvider>;
  session: VaultSession;
  transport: VaultTransport;
}

/** A Vault provider wired the way the builder wires it, against `address`. */
export function buildTestVaultProvider(options: {
  address: string;
  login: VaultLogin;
  namespace?: string;
  timeoutMs?: number;
  tokenRole?: string;
  profiles?: Record<string, VaultProfile>;
  logger?: VaultLogger;
  wrapTransport?: (transport: VaultTransport) => VaultTransport;
}): TestVaultProvider {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const base = createVaultTransport({ address: options.address, namespace: options.namespace, timeoutMs });
  const transport = options.wrapTransport ? options.wrapTransport(base) : base;
  const logger = options.logger ?? silentLogger;
  const now = () => Date.now();
  const session = createVaultSession({ transport, login: options.login, now, logger });
  const provider = createVaultProvider({
    session,
    transport,
    profiles: options.profiles ?? VAULT_PROFILES,
    now,
    logger,
    tokenRole: options.tokenRole,
    timeoutMs,
  });
  return { provider, session, transport };
}

let counter = 0;

/** An issue request for `profile` under a fresh credential id; deadline an hour away unless overridden. */
export function issueRequest(profile: string, overrides: Partial<IssueRequest> = {}): IssueRequest {
  counter += 1;
  return {
    credentialId: `crd_test${Date.now().toString(36)}${counter}`,
    taskId: "tsk_Unit01",
    agent: "ci:agent",
    owner: "ci:owner",
    initiator: { subject: "alice", verified: false },
    profile,
    ttlSeconds: 300,
    scopes: [],
    taskDeadline: Date.now() + 3_600_000,
    actChain: [],
    ...overrides,
  };
}
