import type { CredentialProvider, IssuedCredential, IssueRequest, RevokeRequest } from "../provider.js";
import { PermanentProviderError } from "../provider-errors.js";
import type { VaultProfile } from "./vault-config.js";
import { classifyIssueFailure } from "./vault-errors.js";
import { decodeHandle } from "./vault-handle.js";
import { revokeAccessor, revokeLease, revokeUnrecorded } from "./vault-revoke.js";
import { createLeaseJanitor, issueSecret } from "./vault-secret-mode.js";
import type { VaultLogger, VaultSession } from "./vault-session.js";
import { issueToken } from "./vault-token-mode.js";
import type { VaultTransport } from "./vault-transport.js";

/**
 * The Vault provider: `mode: secret` profiles read a dynamic-secret path (a lease), `mode: token` profiles
 * create an orphan token. Both are bound to the task (TTL ≤ grant, never past the deadline) and revoked
 * for real at task end (`revocable` semantics). The secret goes back to the caller once and is not kept.
 */

export interface VaultProviderDeps {
  session: VaultSession;
  /** Closed with the provider (keep-alive sockets). */
  transport: Pick<VaultTransport, "close">;
  profiles: Record<string, VaultProfile>;
  /** Epoch ms. */
  now: () => number;
  logger: VaultLogger;
  tokenRole?: string;
  /** Vault's request timeout: bounds how late an unrecorded token could have been created. */
  timeoutMs: number;
}

/**
 * A Vault credential must end this long before the task's deadline: TTLs are whole seconds counted from
 * when Vault handles the request, so a second's margin keeps the confirmed expiry inside the task.
 */
const DEADLINE_MARGIN_SECONDS = 1;
/** Clock skew tolerated between the broker and Vault when deciding an unrecorded token has expired. */
const SKEW_MS = 60_000;
/**
 * How long Vault may keep working on a request the broker stopped waiting for: Vault's default
 * `max_request_duration` (90 s). Until then an unanswered token create may still produce a token.
 */
const VAULT_MAX_REQUEST_MS = 90_000;

export function createVaultProvider(deps: VaultProviderDeps): CredentialProvider {
  const { session, now, logger } = deps;
  const send = session.send;
  const janitor = createLeaseJanitor({ send, now, logger });

  function profileOf(name: string): VaultProfile | undefined {
    return Object.hasOwn(deps.profiles, name) ? deps.profiles[name] : undefined;
  }

  /** The TTL to ask Vault for: the grant, capped by the profile and by the task's deadline. */
  function boundTtl(profile: VaultProfile, request: IssueRequest): number {
    const untilDeadline = Math.floor((request.taskDeadline - now()) / 1000) - DEADLINE_MARGIN_SECONDS;
    return Math.min(request.ttlSeconds, profile.max_ttl_seconds, untilDeadline);
  }

  async function issue(request: IssueRequest): Promise<IssuedCredential> {
    const profile = profileOf(request.profile);
    if (!profile) throw new PermanentProviderError(`unknown vault profile ${request.profile}`);
    const ttlSeconds = boundTtl(profile, request);
    if (ttlSeconds < 1)
      throw new PermanentProviderError("the task deadline leaves no time for a Vault credential");
    const doing = `issuing ${request.profile}`;
    try {
      return profile.mode === "secret"
        ? await issueSecret(
            { send, sendAs: session.sendAs, now, janitor, logger },
            profile,
            request,
            ttlSeconds,
          )
        : await issueToken({ send, now, logger, tokenRole: deps.tokenRole }, profile, request, ttlSeconds);
    } catch (err) {
      throw classifyIssueFailure(err, doing);
    }
  }

  async function revoke(request: RevokeRequest): Promise<void> {
    if (request.handle !== null) {
      const handle = decodeHandle(request.handle);
      if (handle.kind === "token") return revokeAccessor(send, handle.accessor);
      // The lease first (synchronously, so its database user is gone when this returns), then its owner.
      await revokeLease(send, handle.lease_id);
      if (handle.accessor) await revokeAccessor(send, handle.accessor);
      return;
    }
    const discarding = janitor.take(request.credentialId);
    // A lease left by a failed binding: revoked here, then its owner token is looked for like any other.
    if (discarding !== undefined) await revokeLease(send, discarding);
    const profile = request.profile === undefined ? undefined : profileOf(request.profile);
    // An unanswered create can take effect at Vault until its request times out there; the token it makes
    // lasts at most the grant (explicit_max_ttl), which `expiresAt` bounds from the recording time.
    const lateness = VAULT_MAX_REQUEST_MS + deps.timeoutMs;
    if (profile && now() > request.expiresAt + lateness + SKEW_MS) return;
    const landsBy = request.createdAt === undefined ? null : request.createdAt + lateness;
    return revokeUnrecorded(
      send,
      request.credentialId,
      profile,
      landsBy !== null && now() < landsBy ? landsBy : null,
    );
  }

  return {
    kind: "vault",
    semantics: "revocable",
    hasProfile: (profile) => profileOf(profile) !== undefined,
    ttlBounds: (profile) => ({ min: 1, max: profileOf(profile)?.max_ttl_seconds ?? 0 }),
    allowedScopes: () => [],
    issue,
    revoke,
    async close() {
      janitor.close();
      session.close();
      deps.transport.close();
    },
  };
}
