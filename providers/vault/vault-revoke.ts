import { z } from "zod";
import { PermanentProviderError, TransientProviderError } from "../provider-errors.js";
import type { VaultProfile } from "./vault-config.js";
import { classifyVaultError, isAlreadyGone, VaultApiError } from "./vault-errors.js";
import { keyListSchema, parseVault } from "./vault-responses.js";
import type { VaultSession } from "./vault-session.js";

/**
 * Revocation at Vault. Leases: `sys/leases/revoke` with `sync: true` (204 once the backend dropped the
 * credential; an unknown lease is also 204). Tokens: `auth/token/revoke-accessor`, which revokes the token
 * and its children; Vault answers `400 invalid accessor` for a token already revoked or expired, which is
 * success here. Everything else is classified by classifyVaultError.
 */

export type VaultSend = VaultSession["send"];

/** The key under which token credentials carry their credential id in Vault token metadata. */
export const CREDENTIAL_META_KEY = "credential_id";

/** Lookups run this many at a time when searching tokens by metadata. */
const LOOKUP_CONCURRENCY = 8;

export async function revokeLease(send: VaultSend, leaseId: string): Promise<void> {
  try {
    await send({ method: "POST", path: "sys/leases/revoke", body: { lease_id: leaseId, sync: true } });
  } catch (err) {
    if (isAlreadyGone(err)) return;
    throw classifyVaultError(err, "revoking a Vault lease");
  }
}

export async function revokeAccessor(send: VaultSend, accessor: string): Promise<void> {
  try {
    await send({ method: "POST", path: "auth/token/revoke-accessor", body: { accessor } });
  } catch (err) {
    if (isAlreadyGone(err)) return;
    throw classifyVaultError(err, "revoking a Vault token");
  }
}

const accessorMetaSchema = z.object({
  data: z.object({ meta: z.record(z.string(), z.string()).nullable().optional() }),
});

/**
 * The accessor of the live token whose metadata names `credentialId`, or null. Lists every accessor
 * (`auth/token/accessors` needs `list` + `sudo`) and looks each up: slow on a large Vault, so only for
 * credentials whose handle was never recorded.
 */
export async function findTokenByCredential(send: VaultSend, credentialId: string): Promise<string | null> {
  let accessors: string[];
  try {
    const path = "auth/token/accessors";
    accessors = parseVault(keyListSchema, await send({ method: "LIST", path }), path).data.keys;
  } catch (err) {
    if (err instanceof VaultApiError && err.status === 404) return null;
    throw classifyVaultError(err, "listing token accessors to find an unrecorded credential");
  }
  let found: string | null = null;
  const queue = [...accessors];
  async function worker(): Promise<void> {
    for (let accessor = queue.shift(); accessor !== undefined && found === null; accessor = queue.shift()) {
      const path = "auth/token/lookup-accessor";
      let body: unknown;
      try {
        body = await send({ method: "POST", path, body: { accessor } });
      } catch (err) {
        if (isAlreadyGone(err)) continue;
        throw classifyVaultError(err, "looking up a token accessor");
      }
      if (parseVault(accessorMetaSchema, body, path).data.meta?.[CREDENTIAL_META_KEY] === credentialId) {
        found = accessor;
      }
    }
  }
  await Promise.all(Array.from({ length: LOOKUP_CONCURRENCY }, worker));
  return found;
}

/**
 * Revokes a credential whose handle the broker never recorded: it stopped between Vault's answer and
 * activation, or the creating call got no answer. The token carrying the credential id in its metadata
 * is found and revoked: the agent's token (`mode: token`), or the lease's owner token (`mode: secret`),
 * whose revocation takes its leases with it. If none carries the id, nothing is alive (never created, or
 * already expired), unless an unanswered create may still land.
 */
export async function revokeUnrecorded(
  send: VaultSend,
  credentialId: string,
  profile: VaultProfile | undefined,
  /** Epoch ms until which an unanswered create could still take effect at Vault; null if it cannot. */
  mayLandUntil: number | null,
): Promise<void> {
  const accessor = await findTokenByCredential(send, credentialId);
  if (accessor !== null) return revokeAccessor(send, accessor);
  if (mayLandUntil !== null) {
    throw new TransientProviderError(
      `no Vault token carries ${credentialId} yet; an unanswered create may still take effect until ` +
        new Date(mayLandUntil).toISOString(),
    );
  }
  if (profile) return;
  throw new PermanentProviderError(
    `no handle was recorded for ${credentialId} and no Vault token carries it; its profile is unknown, so a ` +
      "stray lease cannot be ruled out",
  );
}
