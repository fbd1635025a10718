import { z } from "zod";

const profileBase = {
  provider: z.literal("vault"),
  max_ttl_seconds: z
    .number()
    .int()
    .positive()
    .max(30 * 86_400),
};

/** `profiles.<name>` with `provider: vault, mode: secret`: read a dynamic-secret path, get a lease. */
export const vaultSecretProfileSchema = z
  .object({
    ...profileBase,
    mode: z.literal("secret"),
    /** e.g. `database/creds/reports-ro`. */
    path: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/, "a Vault path such as database/creds/<role>"),
    /**
     * Policies of the per-credential owner token that reads `path` (it needs `read` on it and nothing else).
     * Unset: the owner token inherits the broker's own policies.
     */
    reader_policies: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

/** `profiles.<name>` with `provider: vault, mode: token`: an orphan token with the profile's policies. */
export const vaultTokenProfileSchema = z
  .object({
    ...profileBase,
    mode: z.literal("token"),
    policies: z.array(z.string().min(1)).min(1),
    num_uses: z.number().int().positive().optional(),
  })
  .strict();

export const vaultProfileSchema = z.discriminatedUnion("mode", [
  vaultSecretProfileSchema,
  vaultTokenProfileSchema,
]);
export type VaultProfile = z.infer<typeof vaultProfileSchema>;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** https everywhere; plain http only on loopback (dev and tests), since the broker's token travels in a header. */
function isAllowedVaultAddress(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.test(url.hostname));
  } catch {
    return false;
  }
}

/** `providers.vault`. The broker's own Vault credentials come from env or files, never from the YAML. */
export const vaultProviderConfigSchema = z
  .object({
    /** Vault's address, e.g. `https://vault.internal:8200`. */
    address: z
      .string()
      .url()
      .refine(
        isAllowedVaultAddress,
        "must be an https URL (plain http is accepted only on loopback addresses)",
      ),
    /** Vault Enterprise namespace, sent as `X-Vault-Namespace` on every request. */
    namespace: z.string().min(1).optional(),
    auth: z.discriminatedUnion("method", [
      z
        .object({
          method: z.literal("token"),
          /** Env var holding the broker's Vault token. */
          token_env: z.string().default("VAULT_TOKEN"),
          token_file: z.string().optional(),
        })
        .strict(),
      z
        .object({
          method: z.literal("approle"),
          role_id: z.string().min(1),
          /** Env var holding the AppRole secret id. */
          secret_id_env: z.string().default("VAULT_SECRET_ID"),
          secret_id_file: z.string().optional(),
          mount: z.string().default("approle"),
        })
        .strict(),
    ]),
    /** Timeout of each Vault request (node-vault has none by default). */
    timeout_ms: z.number().int().positive().max(120_000).default(5_000),
    /** PEM file of the CA that signed Vault's TLS certificate, when it is not in the system trust store. */
    ca_file: z.string().optional(),
    /**
     * Token role for `mode: token` profiles: tokens are created with `auth/token/create/<role>` (a role with
     * `orphan=true` and `allowed_policies`) instead of `auth/token/create-orphan`, so the broker needs no
     * `sudo`. Recommended; see docs/providers/vault.md.
     */
    token_role: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .optional(),
  })
  .strict();

export type VaultProviderConfig = z.infer<typeof vaultProviderConfigSchema>;
