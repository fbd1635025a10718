import { z } from "zod";

/** `profiles.<name>` with `provider: sts`: a role session bounded by the task. */
export const stsProfileSchema = z
  .object({
    provider: z.literal("sts"),
    role_arn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "an IAM role ARN"),
    /** The profile's IAM policy document (a mapping or its JSON text); intersected with the role's. */
    session_policy: z.union([z.record(z.string(), z.unknown()), z.string().min(2)]),
    max_ttl_seconds: z.number().int().positive().max(43_200),
  })
  .strict();

export type StsProfile = z.infer<typeof stsProfileSchema>;

/**
 * AssumeRole answers carry secret keys: endpoints are https, or plain http only on loopback (the simulator).
 */
const endpointUrl = z
  .string()
  .url()
  .refine(
    (raw) =>
      raw.startsWith("https://") || /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(raw),
    "must be an https URL (plain http is accepted only on loopback addresses)",
  );

/** `providers.sts`. AWS credentials come from the SDK's default chain, never from the YAML. */
export const stsProviderConfigSchema = z
  .object({
    /** Region of the STS endpoint (and of the SigV4 scope); IAM is global within the partition. */
    region: z.string().min(1),
    /** STS endpoint override (a VPC endpoint, or the simulator in tests). */
    endpoint: endpointUrl.optional(),
    /** IAM endpoint override; IAM has no VPC endpoint, so in production this is normally left unset. */
    iam_endpoint: endpointUrl.optional(),
    /** SDK attempts per call (1 disables the SDK's own retries; the revocation queue retries on top). */
    max_attempts: z.number().int().min(1).max(10).default(3),
    /** Connection and per-attempt response timeout for STS and IAM calls. */
    timeout_ms: z.number().int().positive().max(120_000).default(5_000),
  })
  .strict();

export type StsProviderConfig = z.infer<typeof stsProviderConfigSchema>;
