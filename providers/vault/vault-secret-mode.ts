import type { IssuedCredential, IssueRequest } from "../provider.js";
import { PermanentProviderError, TransientProviderError } from "../provider-errors.js";
import type { VaultProfile } from "./vault-config.js";
import { classifyVaultError } from "./vault-errors.js";
import { encodeHandle } from "./vault-handle.js";
import {
  authResponseSchema,
  type LeasedSecret,
  leasedSecretSchema,
  leaseRenewalSchema,
  parseVault,
} from "./vault-responses.js";
import { CREDENTIAL_META_KEY, revokeAccessor, revokeLease, type VaultSend } from "./vault-revoke.js";
import type { VaultLogger, VaultSession } from "./vault-session.js";
import { requestedDisplayName } from "./vault-token-mode.js";

type SecretProfile = Extract<VaultProfile, { mode: "secret" }>;

/**
 * `mode: secret`: read a dynamic-secret path (e.g. `database/creds/reports-ro`) and bind the lease to the
 * credential. The read goes through an owner token made for this credential alone: a child of the broker's
 * token that lasts the grant, cannot be renewed, and carries the credential id in its metadata. Vault keeps
 * no metadata on leases, but it revokes a token's leases with the token, so a lease whose id the broker
 * never recorded is still found (by the token's metadata) and revoked (with the token). The owner token is
 * never handed out. Vault's `creds/` endpoints take no TTL, so a lease longer than the granted TTL is shortened
 * with `sys/leases/renew` and a smaller `increment` (measured from now; Vault allows shortening). The
 * credential's expiry is the one Vault confirms. If Vault will not bring the lease within the granted TTL,
 * the lease is revoked and issuance fails: the broker never hands out a secret that outlives its grant.
 * Failures after the read say whether the lease is already gone (permanent: nothing exists) or not yet
 * (transient: the broker revokes the credential defensively and gets the lease id from the janitor).
 */

export interface SecretModeDeps {
  send: VaultSend;
  /** Calls as the credential's owner token. */
  sendAs: VaultSession["sendAs"];
  now: () => number;
  janitor: LeaseJanitor;
  logger: VaultLogger;
}

/** The identity a dynamic secret acts as: the database username, the AWS access key id, else the path. */
function accountOf(data: Record<string, unknown>, path: string): string {
  for (const key of ["username", "access_key"]) {
    const value = data[key];
    if (typeof value === "string" && value.length > 0) return value;
  }
  return path;
}

/** Shortens the lease to `ttlSeconds` when it is longer; returns the duration Vault confirms and when. */
async function bindLease(
  deps: SecretModeDeps,
  read: LeasedSecret,
  readAt: number,
  ttlSeconds: number,
): Promise<{ seconds: number; at: number }> {
  const fits = read.lease_duration > 0 && read.lease_duration <= ttlSeconds;
  if (fits || !read.renewable) return { seconds: read.lease_duration, at: readAt };
  const path = "sys/leases/renew";
  const body = await deps.send({
    method: "POST",
    path,
    body: { lease_id: read.lease_id, increment: ttlSeconds },
  });
  const renewed = parseVault(leaseRenewalSchema, body, path);
  return { seconds: renewed.lease_duration, at: deps.now() };
}

/** The metadata value that tells an owner token from an agent token (both carry the credential id). */
export const OWNER_PURPOSE = "lease-owner";

/**
 * Creates the credential's owner token (`auth/token/create`: a child of the broker's token, so no sudo is
 * needed). Its policies are the profile's `reader_policies`, else the broker's own (Vault's default for a
 * child token). `num_uses` stays unlimited: a token whose uses run out is revoked, and its lease with it.
 */
async function createOwnerToken(
  deps: SecretModeDeps,
  profile: SecretProfile,
  request: IssueRequest,
  ttlSeconds: number,
): Promise<{ token: string; accessor: string }> {
  const path = "auth/token/create";
  const body = await deps.send({
    method: "POST",
    path,
    body: {
      ...(profile.reader_policies ? { policies: profile.reader_policies } : {}),
      ttl: `${ttlSeconds}s`,
      explicit_max_ttl: `${ttlSeconds}s`,
      renewable: false,
      display_name: requestedDisplayName(request.taskId),
      meta: {
        [CREDENTIAL_META_KEY]: request.credentialId,
        task_id: request.taskId,
        agent: request.agent,
        profile: request.profile,
        purpose: OWNER_PURPOSE,
      },
    },
  });
  const { auth } = parseVault(authResponseSchema, body, path);
  return { token: auth.client_token, accessor: auth.accessor };
}

/** Reads the secret as the owner token; on failure the owner token goes (a transient error if it cannot). */
async function readAsOwner(
  deps: SecretModeDeps,
  profile: SecretProfile,
  owner: { token: string; accessor: string },
): Promise<LeasedSecret> {
  try {
    return parseVault(
      leasedSecretSchema,
      await deps.sendAs(owner.token, { method: "GET", path: profile.path }),
      profile.path,
    );
  } catch (err) {
    const gone = await revokeAccessor(deps.send, owner.accessor).then(
      () => true,
      () => false,
    );
    if (gone) throw err;
    const { message } = classifyVaultError(err, `reading ${profile.path}`);
    throw new TransientProviderError(`${message}; its owner token could not be revoked yet`, { cause: err });
  }
}

export async function issueSecret(
  deps: SecretModeDeps,
  profile: SecretProfile,
  request: IssueRequest,
  ttlSeconds: number,
): Promise<IssuedCredential> {
  const owner = await createOwnerToken(deps, profile, request, ttlSeconds);
  const read = await readAsOwner(deps, profile, owner);
  const readAt = deps.now();
  if (read.lease_id === "") {
    await revokeAccessor(deps.send, owner.accessor).catch(() => undefined);
    throw new PermanentProviderError(`${profile.path} is not a dynamic secret: Vault returned no lease`);
  }
  if (read.warnings?.length)
    deps.logger.warn({ path: profile.path, warnings: read.warnings }, "Vault warnings");
  try {
    const bound = await bindLease(deps, read, readAt, ttlSeconds);
    if (bound.seconds === 0 || bound.seconds > ttlSeconds) {
      throw new PermanentProviderError(
        `Vault would not shorten the lease from ${profile.path} to ${ttlSeconds} s (it lasts ` +
          `${bound.seconds} s): set the role's default_ttl at or below the profile's max_ttl_seconds`,
      );
    }
    return {
      handle: encodeHandle({ kind: "lease", lease_id: read.lease_id, accessor: owner.accessor }),
      expiresAt: bound.at + bound.seconds * 1000,
      downstreamAccount: accountOf(read.data, profile.path),
      secret: { lease_id: read.lease_id, data: read.data },
      notes: [],
    };
  } catch (err) {
    const expiresAt = readAt + read.lease_duration * 1000;
    const leaseGone = await deps.janitor.discard(read.lease_id, expiresAt, request.credentialId);
    // Revoking the owner also makes Vault revoke the lease (queued on its side), so either is enough.
    const ownerGone = await revokeAccessor(deps.send, owner.accessor).then(
      () => true,
      () => false,
    );
    if (ownerGone) deps.janitor.take(request.credentialId);
    const gone = leaseGone || ownerGone;
    const { message } = classifyVaultError(err, `binding the lease from ${profile.path} to the grant`);
    if (gone) throw new PermanentProviderError(`${message}; the lease was revoked`, { cause: err });
    throw new TransientProviderError(`${message}; the lease is being revoked`, { cause: err });
  }
}

/**
 * Revokes leases left behind by a failed issuance. The first attempt runs before the request fails; if Vault
 * refuses, it keeps trying in the background until the lease expires, and hands the lease id to the
 * broker's defensive revocation of the same credential (`take`), which would otherwise have no handle.
 */
export interface LeaseJanitor {
  /** True when the lease is gone after the first attempt. */
  discard(leaseId: string, expiresAt: number, credentialId: string): Promise<boolean>;
  /** The lease of `credentialId` still waiting to be discarded, which the caller now revokes itself. */
  take(credentialId: string): string | undefined;
  close(): void;
}

export function createLeaseJanitor(deps: {
  send: VaultSend;
  now: () => number;
  logger: VaultLogger;
  /** First retry delay; doubles each time. Default 1 s. */
  retryMs?: number;
}): LeaseJanitor {
  const timers = new Map<string, NodeJS.Timeout>();
  const waiting = new Map<string, string>();
  const retryMs = deps.retryMs ?? 1_000;

  async function attempt(
    leaseId: string,
    expiresAt: number,
    credentialId: string,
    made: number,
  ): Promise<boolean> {
    timers.delete(credentialId);
    if (made > 0 && waiting.get(credentialId) !== leaseId) return true;
    try {
      await revokeLease(deps.send, leaseId);
      waiting.delete(credentialId);
      return true;
    } catch (err) {
      const delay = retryMs * 2 ** made;
      const fields = { credential_id: credentialId, error: (err as Error).message };
      if (deps.now() + delay >= expiresAt || made >= 10) {
        waiting.delete(credentialId);
        deps.logger.warn(
          { ...fields, expires_at: new Date(expiresAt).toISOString() },
          "a lease from a failed issuance could not be revoked; it lives until it expires",
        );
        return false;
      }
      waiting.set(credentialId, leaseId);
      const timer = setTimeout(() => void attempt(leaseId, expiresAt, credentialId, made + 1), delay);
      timer.unref();
      timers.set(credentialId, timer);
      return false;
    }
  }

  return {
    discard: (leaseId, expiresAt, credentialId) => attempt(leaseId, expiresAt, credentialId, 0),
    take(credentialId) {
      const leaseId = waiting.get(credentialId);
      waiting.delete(credentialId);
      clearTimeout(timers.get(credentialId));
      timers.delete(credentialId);
      return leaseId;
    },
    close() {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      waiting.clear();
    },
  };
}
