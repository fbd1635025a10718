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

/** `providers.sts`. AWS credentials come from the SDK's default chain, never from the YAML. */
export const stsProviderConfigSchema = z
  .object({
    region: z.string().min(1),
    /** STS/IAM endpoint override (the simulator in tests; VPC endpoints in production). */
    endpoint: z.string().url().optional(),
    iam_endpoint: z.string().url().optional(),
    max_attempts: z.number().int().min(1).max(10).default(3),
    timeout_ms: z.number().int().positive().max(120_000).default(5_000),
  })
  .strict();

export type StsProviderConfig = z.infer<typeof stsProviderConfigSchema>;
