/**
 * credbroker's client for agent runtimes, orchestrators and approvers (`import … from "credbroker/client"`).
 * It depends on nothing but Node's built-in `fetch`, and nothing else of credbroker.
 *
 * ```ts
 * const broker = createBrokerClient({ url, assertion: assertionFromFile("/var/run/secrets/credbroker/token") });
 * await using task = await broker.openTask({ intent: "Summarise Q3 incidents", ttlSeconds: 900, initiator: "alice@example.com" });
 * const result = await task.credential("tickets-api", { ttlSeconds: 300, scopes: ["tickets:read"], reason: "list open incidents" });
 * const credential = result.kind === "pending_approval" ? await result.wait() : result;
 * ```
 */
import "./dispose-polyfill.js";

export {
  type AssertionInput,
  type AssertionSource,
  assertionFromEnv,
  assertionFromFile,
  assertionFromFunction,
} from "./assertion-source.js";
export {
  type AwsCredentials,
  awsCredentialProvider,
  awsCredentials,
  type CredentialProcessOutput,
  type CredentialSource,
  credentialProcessOutput,
} from "./aws.js";
export {
  type ApprovalsApi,
  type BrokerClient,
  type BrokerClientOptions,
  createBrokerClient,
} from "./broker-client.js";
export {
  type BrokerErrorCode,
  type ClientErrorCode,
  CredbrokerError,
  type CredbrokerErrorCode,
  type CredbrokerErrorOptions,
  isCredbrokerError,
} from "./errors.js";
export { PendingApproval, type WaitOptions } from "./pending-approval.js";
export type { RetryEvent, RetryOptions } from "./retry.js";
export { type CloseOptions, type CredentialResult, TaskHandle } from "./task-handle.js";
export type { RetryClass } from "./transport.js";
export type {
  ApprovalInfo,
  CredentialRequestOptions,
  CredentialSecret,
  CredentialSummary,
  DelegateOptions,
  Initiator,
  IssuedCredential,
  OpenTaskOptions,
  TaskInfo,
} from "./types.js";
