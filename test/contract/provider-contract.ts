import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CredentialProvider, IssuedCredential } from "../../providers/provider.js";
import { TransientProviderError } from "../../providers/provider-errors.js";
import { createProviderRegistry } from "../../providers/registry.js";
import { createCredentialStore } from "../../src/credentials/credential-store.js";
import type { Credential } from "../../src/credentials/credential-types.js";
import { createBrokerMetrics } from "../../src/metrics/broker-metrics.js";
import { createRevokeCredential } from "../../src/revocation/revoke-credential.js";
import { systemClock } from "../../src/shared/clock.js";
import { newId } from "../../src/shared/ids.js";
import { createLogger } from "../../src/shared/logger.js";
import { createTaskStore } from "../../src/tasks/task-store.js";
import { pendingCredential } from "../support/credential-fixture.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../support/redis-keys.js";

/** What one provider brings to the shared suite: itself, a way to tell whether a secret works, and faults. */
export interface ContractFixture {
  provider: CredentialProvider;
  profile: string;
  /** Whether the upstream would honour the issued credential right now. */
  isUsable(issued: IssuedCredential): Promise<boolean>;
  /** The next revocation call fails the way a timeout, 5xx or throttle does. */
  failNextRevokeTransiently(): Promise<void> | void;
  /** Revocations fail the way a missing permission does, until cleared. */
  failRevokesPermanently(): Promise<void> | void;
  clearFaults(): Promise<void> | void;
  teardown(): Promise<void>;
  /**
   * Top-level secret fields that identify rather than authenticate (a Vault lease id or token accessor, which
   * API.md puts in the secret and the handle must hold); every other string in the secret, at any depth, must
   * stay out of the handle.
   */
  identifierFields?: readonly string[];
}

export interface ContractSubject {
  name: string;
  /** A reason to skip (e.g. the real service is not configured); printed with the skip. */
  skipReason?: string;
  setup(): Promise<ContractFixture>;
}

const ATTEMPTS = 3;

/** Every string in a secret, however nested (a Vault secret's password sits under `data`), minus `skip` keys. */
function secretStrings(value: unknown, skip: ReadonlySet<string> = new Set()): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap((item) => secretStrings(item));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => (skip.has(key) ? [] : secretStrings(item)));
}

/**
 * The one suite every provider passes: issue → usable → revoke → unusable → revoke again → transient failure
 * retried → permanent failure ends in revoke_failed. Revocation runs through the broker's real revocation
 * step (credential records in the real Redis), so the provider's error classes are held to their meaning.
 */
export function runProviderContract(subject: ContractSubject): void {
  const suite = subject.skipReason ? describe.skip : describe;
  if (subject.skipReason) console.warn(`[contract] ${subject.name} skipped: ${subject.skipReason}`);

  suite(`provider contract: ${subject.name}`, () => {
    let fixture: ContractFixture;
    let redis: Redis;
    const prefix = uniquePrefix(`contract-${subject.name}`);
    let taskId: string;

    beforeAll(async () => {
      fixture = await subject.setup();
      redis = new Redis(TEST_REDIS_URL);
      taskId = newId("tsk");
      await createTaskStore({ redis, keyPrefix: prefix }).create({
        id: taskId,
        state: "open",
        owner: "ci:owner",
        agent: "ci:agent",
        initiator: { subject: "alice", verified: false },
        intent: "contract",
        labels: {},
        parentId: null,
        rootId: taskId,
        depth: 0,
        profiles: null,
        createdAt: Date.now(),
        deadline: Date.now() + 3_600_000,
        closingAt: null,
        closedAt: null,
        closeReason: null,
        related: ["ci:agent"],
        actChain: [],
      });
    }, 30_000);
    afterAll(async () => {
      await fixture?.teardown();
      redis?.disconnect();
      await deleteByPrefix(TEST_REDIS_URL, prefix);
    });

    const store = () => createCredentialStore({ redis, keyPrefix: prefix, now: () => Date.now() });

    /** Issues through the provider and records the credential as the broker would, then marks it revoking. */
    async function issueRecorded(): Promise<{ credential: Credential; issued: IssuedCredential }> {
      const credentials = store();
      const credential = pendingCredential({
        id: newId("crd"),
        taskId,
        agent: "ci:agent",
        profile: fixture.profile,
        provider: fixture.provider.kind,
        ttlSeconds: 600,
        reason: "contract",
      });
      expect(await credentials.createPending(credential, Date.now())).toBe("ok");
      const issued = await fixture.provider.issue({
        credentialId: credential.id,
        taskId,
        agent: "ci:agent",
        owner: "ci:owner",
        initiator: { subject: "alice", verified: false },
        profile: fixture.profile,
        ttlSeconds: 600,
        scopes: [],
        taskDeadline: Date.now() + 3_600_000,
        actChain: [],
      });
      await credentials.activate(credential, {
        handle: issued.handle,
        expiresAt: issued.expiresAt,
        downstreamAccount: issued.downstreamAccount,
        issuedAt: Date.now(),
      });
      await credentials.transition(credential, ["active"], "revoking", { revoke_reason: "contract" });
      return { credential, issued };
    }

    function revokeStep() {
      return createRevokeCredential({
        credentials: store(),
        providers: createProviderRegistry([fixture.provider]),
        closer: { completeIfSettled: async () => false },
        audit: { append: async () => ({}) as never },
        metrics: createBrokerMetrics(),
        clock: systemClock,
        logger: createLogger({ level: "silent" }),
        pendingGraceMs: 60_000,
        failedRetryIntervalMs: 600_000,
        maxStalls: 3,
      });
    }

    /** Runs the job the way BullMQ would: retry on throw, up to ATTEMPTS. */
    async function runJob(credential: Credential): Promise<{ attempts: number; state: string | undefined }> {
      const revoke = revokeStep();
      let made = 0;
      for (; made < ATTEMPTS; made++) {
        try {
          await revoke({ credentialId: credential.id, taskId }, { made, max: ATTEMPTS, stalls: 0 });
          break;
        } catch (err) {
          expect(err).toBeInstanceOf(TransientProviderError);
        }
      }
      return { attempts: made + 1, state: (await store().getInTask(taskId, credential.id))?.state };
    }

    it("issues a usable credential with a non-secret handle and a confirmed expiry", async () => {
      const { issued } = await issueRecorded();
      expect(await fixture.isUsable(issued)).toBe(true);
      expect(issued.expiresAt).toBeGreaterThan(Date.now());
      expect(issued.downstreamAccount.length).toBeGreaterThan(0);
      for (const value of secretStrings(issued.secret, new Set(fixture.identifierFields ?? []))) {
        if (value.length >= 8) expect(issued.handle).not.toContain(value);
      }
    });

    it("revoking makes it unusable, and revoking again still succeeds", async () => {
      const { credential, issued } = await issueRecorded();
      expect(await runJob(credential)).toEqual({ attempts: 1, state: "revoked" });
      expect(await fixture.isUsable(issued)).toBe(false);
      await expect(
        fixture.provider.revoke({
          credentialId: credential.id,
          handle: issued.handle,
          expiresAt: issued.expiresAt,
        }),
      ).resolves.toBeUndefined();
    });

    it("a transient upstream failure is retried and the credential still ends revoked", async () => {
      const { credential, issued } = await issueRecorded();
      await fixture.failNextRevokeTransiently();
      expect(await runJob(credential)).toEqual({ attempts: 2, state: "revoked" });
      expect(await fixture.isUsable(issued)).toBe(false);
    });

    it("a permanent upstream failure ends in revoke_failed without retrying", async () => {
      const { credential } = await issueRecorded();
      await fixture.failRevokesPermanently();
      try {
        expect(await runJob(credential)).toEqual({ attempts: 1, state: "revoke_failed" });
        expect((await store().getInTask(taskId, credential.id))?.lastError).toBeTruthy();
      } finally {
        await fixture.clearFaults();
      }
    });
  });
}
