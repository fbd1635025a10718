import type { Credential } from "../../src/credentials/credential-types.js";

/** A credential record as the broker writes it before the provider issues (state `pending`, no handle). */
export function pendingCredential(
  fields: Pick<Credential, "id" | "taskId" | "agent" | "profile" | "provider"> & Partial<Credential>,
): Credential {
  return {
    state: "pending",
    createdAt: Date.now(),
    issuedAt: null,
    expiresAt: null,
    revokedAt: null,
    ttlSeconds: 300,
    scopes: [],
    reason: "",
    handle: null,
    downstreamAccount: null,
    lastError: null,
    revokeAttempts: 0,
    revokeReason: null,
    failureKind: null,
    failedRetries: 0,
    resolution: null,
    policyIds: [],
    policySetHash: "",
    ...fields,
  };
}
