import { z } from "zod";

/** `profiles.<name>` when `provider: signer`. */
export const signerProfileSchema = z
  .object({
    provider: z.literal("signer"),
    max_ttl_seconds: z.number().int().positive().max(86_400),
    /** `aud` of the issued access tokens: the resource server that accepts them. */
    audience: z.string().min(1),
    /** Scopes an agent may ask for; requests for others are refused with 422 scope_not_allowed. */
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, "scope tokens are RFC 6749 scope-tokens"))
      .default([]),
  })
  .strict();

export type SignerProfile = z.infer<typeof signerProfileSchema>;

/** `providers.signer`: all optional. Secrets (the key-encryption key) come only from env or files. */
export const signerProviderConfigSchema = z
  .object({
    /** `iss` of issued tokens; defaults to `server.public_url`. */
    issuer: z
      .string()
      .url()
      .refine(
        (raw) =>
          raw.startsWith("https://") ||
          /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(raw),
        "must be an https URL (plain http is accepted only on loopback addresses)",
      )
      .optional(),
    algorithm: z.enum(["ES256", "EdDSA"]).default("ES256"),
    /** Env var holding the base64 32-byte key-encryption key for signing keys kept in Redis. */
    kek_env: z.string().default("CREDBROKER_SIGNER_KEK"),
    /** File holding the KEK instead of an env var (e.g. a mounted Kubernetes secret). */
    kek_file: z.string().optional(),
    /** PEM private key files to sign with instead of generated keys; the first is current. */
    key_files: z.array(z.string()).optional(),
  })
  .strict();

export type SignerProviderConfig = z.infer<typeof signerProviderConfigSchema>;
