import type { IssuedCredential, IssueRequest } from "../provider.js";
import { PermanentProviderError, TransientProviderError } from "../provider-errors.js";
import type { VaultProfile } from "./vault-config.js";
import { encodeHandle } from "./vault-handle.js";
import { authResponseSchema, parseVault } from "./vault-responses.js";
import { CREDENTIAL_META_KEY, revokeAccessor, type VaultSend } from "./vault-revoke.js";
import type { VaultLogger } from "./vault-session.js";

type TokenProfile = Extract<VaultProfile, { mode: "token" }>;

/**
 * `mode: token`: an orphan Vault token with the profile's policies, so it does not die with the broker's own
 * token, and `ttl` = `explicit_max_ttl` = the granted TTL with `renewable: false`, so the agent cannot
 * stretch it. Its display name carries the task; its metadata the credential, task, agent and profile (the
 * credential id lets a crash-interrupted issuance be found and revoked later).
 */

export interface TokenModeDeps {
  send: VaultSend;
  now: () => number;
  logger: VaultLogger;
  /** Create through `auth/token/create/<role>` instead of `auth/token/create-orphan`. */
  tokenRole?: string;
}

/** The display name the broker asks for: it names the task. */
export const requestedDisplayName = (taskId: string): string => `credbroker-${taskId}`;

/**
 * The display name as Vault stores and reports it (`token_store.go`): `token-` + the requested name, every
 * character outside `[a-zA-Z0-9-]` replaced by `-`, one trailing `-` dropped.
 */
export function vaultDisplayName(requested: string): string {
  return `token-${requested}`.replace(/[^a-zA-Z0-9-]/g, "-").replace(/-$/, "");
}

export async function issueToken(
  deps: TokenModeDeps,
  profile: TokenProfile,
  request: IssueRequest,
  ttlSeconds: number,
): Promise<IssuedCredential> {
  const path = deps.tokenRole ? `auth/token/create/${deps.tokenRole}` : "auth/token/create-orphan";
  const displayName = requestedDisplayName(request.taskId);
  const body = await deps.send({
    method: "POST",
    path,
    body: {
      policies: profile.policies,
      ttl: `${ttlSeconds}s`,
      explicit_max_ttl: `${ttlSeconds}s`,
      renewable: false,
      display_name: displayName,
      meta: {
        [CREDENTIAL_META_KEY]: request.credentialId,
        task_id: request.taskId,
        agent: request.agent,
        profile: request.profile,
      },
      ...(profile.num_uses === undefined ? {} : { num_uses: profile.num_uses }),
    },
  });
  const at = deps.now();
  const { auth, warnings } = parseVault(authResponseSchema, body, path);
  if (warnings?.length) deps.logger.warn({ path, warnings }, "Vault warnings");
  if (auth.lease_duration === 0 || auth.lease_duration > ttlSeconds) {
    const problem = `Vault created a token that lasts ${auth.lease_duration || "forever"} instead of ${ttlSeconds} s`;
    const revoked = await revokeAccessor(deps.send, auth.accessor).then(
      () => true,
      () => false,
    );
    // Not revoked: transient, so the broker revokes it defensively (found again by its metadata).
    if (!revoked) throw new TransientProviderError(`${problem}; revoking it failed`);
    throw new PermanentProviderError(`${problem}; it was revoked`);
  }
  return {
    handle: encodeHandle({ kind: "token", accessor: auth.accessor }),
    expiresAt: at + auth.lease_duration * 1000,
    downstreamAccount: vaultDisplayName(displayName),
    secret: { token: auth.client_token, accessor: auth.accessor },
    notes: [],
  };
}
