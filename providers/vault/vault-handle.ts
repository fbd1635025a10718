import { z } from "zod";
import { PermanentProviderError } from "../provider-errors.js";

/**
 * What the broker stores to revoke a Vault credential later: the lease id of a dynamic secret and the
 * accessor of the token that owns it (handles recorded before owner tokens existed have none), or the
 * accessor of a token. None authenticates anyone (an accessor cannot be used as a token; revoking a lease
 * needs the broker's own policy), so none is a secret.
 */
const vaultHandleSchema = z.discriminatedUnion("kind", [
  z
    .object({ kind: z.literal("lease"), lease_id: z.string().min(1), accessor: z.string().min(1).optional() })
    .strict(),
  z.object({ kind: z.literal("token"), accessor: z.string().min(1) }).strict(),
]);

export type VaultHandle = z.infer<typeof vaultHandleSchema>;

export const encodeHandle = (handle: VaultHandle): string => JSON.stringify(handle);

/** Parses a stored handle; one this provider cannot read will never become revocable, so that is permanent. */
export function decodeHandle(raw: string): VaultHandle {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new PermanentProviderError("unreadable Vault credential handle");
  }
  const parsed = vaultHandleSchema.safeParse(json);
  if (!parsed.success) throw new PermanentProviderError("unreadable Vault credential handle");
  return parsed.data;
}
