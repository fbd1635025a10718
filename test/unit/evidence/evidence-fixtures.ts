import { chainEvent } from "../../../src/audit/audit-chain.js";
import type { AuditEvent, AuditEventInput } from "../../../src/audit/audit-types.js";
import { GENESIS_HASH } from "../../../src/audit/audit-types.js";
import type { Checkpoint } from "../../../src/audit/checkpoint-types.js";
import type { Credential } from "../../../src/credentials/credential-types.js";
import type { EvidenceBuilderDeps } from "../../../src/evidence/evidence-builder.js";
import type { Task } from "../../../src/tasks/task-types.js";

export const T0 = Date.parse("2026-03-01T10:00:00.000Z");
export const MIN = 60_000;

export function task(overrides: Partial<Task> & Pick<Task, "id">): Task {
  return {
    state: "open",
    owner: "ci:planner",
    agent: "ci:planner",
    initiator: { subject: "alice@example.com", verified: true },
    intent: "triage tickets",
    labels: {},
    parentId: null,
    rootId: overrides.id,
    depth: 0,
    profiles: null,
    createdAt: T0,
    deadline: T0 + 60 * MIN,
    closingAt: null,
    closedAt: null,
    closeReason: null,
    related: ["ci:planner"],
    actChain: [],
    ...overrides,
  };
}

export function credential(overrides: Partial<Credential> & Pick<Credential, "id" | "taskId">): Credential {
  return {
    agent: "ci:planner",
    profile: "tickets-api",
    provider: "signer",
    state: "active",
    createdAt: T0,
    issuedAt: T0,
    expiresAt: T0 + 10 * MIN,
    revokedAt: null,
    ttlSeconds: 600,
    scopes: ["tickets:read"],
    reason: "",
    handle: "jti-1",
    downstreamAccount: "https://tickets.internal",
    lastError: null,
    revokeAttempts: 0,
    revokeReason: null,
    failureKind: null,
    failedRetries: 0,
    resolution: null,
    policyIds: ["ci-tickets"],
    policySetHash: "a".repeat(64),
    ...overrides,
  };
}

/** A correctly hash-chained list of events, one per input, times a second apart from T0. */
export function chain(inputs: AuditEventInput[]): AuditEvent[] {
  let prev = { seq: 0, hash: GENESIS_HASH };
  return inputs.map((input, i) => {
    const event = chainEvent(input, prev, new Date(T0 + i * 1000).toISOString());
    prev = { seq: event.seq, hash: event.hash };
    return event;
  });
}

/** In-memory stores behind an evidence builder. */
export function memoryDeps(state: {
  tasks: Task[];
  credentials: Credential[];
  events: AuditEvent[];
  now?: number;
  /** Signed checkpoints (default none), and whether their signatures hold (default true). */
  checkpoints?: Checkpoint[];
  signaturesHold?: boolean;
}): EvidenceBuilderDeps {
  const byId = new Map(state.tasks.map((t) => [t.id, t]));
  const last = state.events.at(-1);
  return {
    tasks: {
      get: async (id) => byId.get(id) ?? null,
      getMany: async (ids) => ids.flatMap((id) => byId.get(id) ?? []),
      children: async (id) => state.tasks.filter((t) => t.parentId === id).map((t) => t.id),
    },
    credentials: { listForTask: async (id) => state.credentials.filter((c) => c.taskId === id) },
    audit: {
      forTask: async (id) => state.events.filter((e) => e.task_id === id),
      all: async function* () {
        yield* state.events;
      },
      head: async () => (last ? { seq: last.seq, hash: last.hash } : null),
    },
    checkpoints: {
      anchor: async () => null,
      list: async () => state.checkpoints ?? [],
      checkSignature: async () => state.signaturesHold ?? true,
    },
    clock: { now: () => state.now ?? T0 + 30 * MIN },
  };
}

/** A checkpoint of `event` (signature fields are placeholders: the fixtures' checkSignature decides). */
export function checkpointAt(event: AuditEvent): Checkpoint {
  return {
    seq: event.seq,
    hash: event.hash,
    time: event.time,
    kid: "kid-test",
    jws: "header.payload.signature",
    public_jwk: { kty: "OKP", crv: "Ed25519", x: "x", kid: "kid-test", alg: "EdDSA", use: "sig" },
  };
}
