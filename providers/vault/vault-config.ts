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

/** `providers.vault`. The broker's own Vault credentials come from env or files, never from the YAML. */
export const vaultProviderConfigSchema = z
  .object({
    address: z.string().url(),
    namespace: z.string().optional(),
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
    timeout_ms: z.number().int().positive().max(120_000).default(5_000),
  })
  .strict();

export type VaultProviderConfig = z.infer<typeof vaultProviderConfigSchema>;
