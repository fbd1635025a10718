import { CredbrokerError } from "./errors.js";
import type { CredentialRequestOptions, CredentialSecret } from "./types.js";

/** What the AWS SDK for JavaScript v3 expects from a credential provider (`AwsCredentialIdentity`). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** The AWS CLI/SDK `credential_process` output, version 1. */
export interface CredentialProcessOutput {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

function field(secret: CredentialSecret, name: keyof CredentialSecret): string {
  const value = secret[name];
  if (typeof value !== "string" || value === "") {
    throw new CredbrokerError("invalid_response", `not an AWS credential: the secret has no ${String(name)}`);
  }
  return value;
}

/** An STS credential's secret (snake_case, as the broker returns it) in the AWS SDK's shape. */
export function awsCredentials(secret: CredentialSecret): AwsCredentials {
  return {
    accessKeyId: field(secret, "access_key_id"),
    secretAccessKey: field(secret, "secret_access_key"),
    sessionToken: field(secret, "session_token"),
    expiration: new Date(field(secret, "expiration")),
  };
}

/** An STS credential's secret as `credential_process` prints it (`aws configure`'s `credential_process`). */
export function credentialProcessOutput(secret: CredentialSecret): CredentialProcessOutput {
  const c = awsCredentials(secret);
  return {
    Version: 1,
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    SessionToken: c.sessionToken,
    Expiration: c.expiration.toISOString(),
  };
}

/** What the provider needs of a task: its `credential()` (a {@link TaskHandle} has it). */
export interface CredentialSource {
  credential(
    profile: string,
    options?: CredentialRequestOptions,
  ): Promise<
    | { kind: "credential"; secret: CredentialSecret }
    | { kind: "pending_approval"; wait(): Promise<{ secret: CredentialSecret }> }
  >;
}

/**
 * An AWS SDK v3 credential provider bound to a task and an STS profile: each call asks the broker for a
 * fresh credential (the SDK calls again shortly before `expiration`), and waits for a human when the policy
 * holds the request for approval. Pass it as `credentials` to any v3 client:
 *
 * ```ts
 * const s3 = new S3Client({ region, credentials: awsCredentialProvider(task, "reports-ro") });
 * ```
 */
export function awsCredentialProvider(
  task: CredentialSource,
  profile: string,
  options: CredentialRequestOptions = {},
): () => Promise<AwsCredentials> {
  return async () => {
    const result = await task.credential(profile, options);
    const issued = result.kind === "pending_approval" ? await result.wait() : result;
    return awsCredentials(issued.secret);
  };
}
