import { z } from "zod";
import { PermanentProviderError } from "../provider-errors.js";

/** What the broker stores for an STS credential: enough to deny the session, nothing that could use it. */
const stsHandleSchema = z.object({
  role_arn: z.string().min(20),
  session_name: z.string().min(2),
  /** `aws:userid` of the session: `<RoleId>:<session name>` (AssumeRole's AssumedRoleId). */
  user_id: z.string().min(3),
  /** Session expiry, epoch ms. */
  expires_at: z.number().int(),
});

export type StsHandle = z.infer<typeof stsHandleSchema>;

export const formatStsHandle = (handle: StsHandle): string => JSON.stringify(handle);

export function parseStsHandle(text: string): StsHandle {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PermanentProviderError("sts handle is not JSON", { cause: err });
  }
  const parsed = stsHandleSchema.safeParse(json);
  if (!parsed.success) throw new PermanentProviderError("sts handle is malformed", { cause: parsed.error });
  return parsed.data;
}
