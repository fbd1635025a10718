import { z } from "zod";
import { VaultResponseError } from "./vault-errors.js";

/**
 * The parts of Vault's responses the provider relies on (shared/reference/vault.md §1.2, §2, §3), checked
 * with zod at the edge: node-vault types every response as `any`. Unknown keys pass through untouched.
 */

const seconds = z.number().int().nonnegative();

/** The `auth` block of a login, token-create or renew response. */
export const authBlockSchema = z.object({
  client_token: z.string(),
  accessor: z.string(),
  policies: z.array(z.string()).nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  lease_duration: seconds,
  renewable: z.boolean(),
});
export type AuthBlock = z.infer<typeof authBlockSchema>;

export const authResponseSchema = z.object({
  auth: authBlockSchema,
  warnings: z.array(z.string()).nullable().optional(),
});

/** A read of a dynamic-secret path: a lease and the secret's data. */
export const leasedSecretSchema = z.object({
  lease_id: z.string(),
  lease_duration: seconds,
  renewable: z.boolean(),
  data: z.record(z.string(), z.unknown()),
  warnings: z.array(z.string()).nullable().optional(),
});
export type LeasedSecret = z.infer<typeof leasedSecretSchema>;

/** `sys/leases/renew`: the lease's new duration from now. */
export const leaseRenewalSchema = z.object({
  lease_id: z.string(),
  lease_duration: seconds,
  renewable: z.boolean(),
  warnings: z.array(z.string()).nullable().optional(),
});

/** `auth/token/lookup-self` and `lookup-accessor`. */
export const tokenLookupSchema = z.object({
  data: z.object({
    accessor: z.string(),
    display_name: z.string(),
    /** Remaining seconds; 0 for a token that never expires. */
    ttl: seconds,
    creation_ttl: seconds.optional(),
    renewable: z.boolean(),
    expire_time: z.string().nullable(),
    meta: z.record(z.string(), z.string()).nullable(),
  }),
});
export type TokenLookup = z.infer<typeof tokenLookupSchema>["data"];

/** LIST responses. */
export const keyListSchema = z.object({ data: z.object({ keys: z.array(z.string()) }) });

/** Parses a Vault response or throws VaultResponseError naming the path (never the body: it may hold secrets). */
export function parseVault<T>(schema: z.ZodType<T>, body: unknown, path: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new VaultResponseError(
    path,
    issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid",
  );
}
