import { describe, expect, it } from "vitest";
import { PermanentProviderError, TransientProviderError } from "../../../providers/provider-errors.js";
import {
  classifyVaultError,
  isAlreadyGone,
  VaultApiError,
  VaultResponseError,
  VaultUnreachableError,
} from "../../../providers/vault/vault-errors.js";

const api = (status: number, ...errors: string[]) => new VaultApiError(status, errors, "sys/leases/revoke");

describe("classifying Vault failures", () => {
  it.each([
    ["no answer", new VaultUnreachableError("ECONNREFUSED", "p")],
    ["a timeout", new VaultUnreachableError("ECONNABORTED", "p")],
    ["sealed", api(503, "Vault is sealed")],
    ["an internal error", api(500, "1 error occurred:\n\t* internal error\n\n")],
    ["rate limiting", api(429, 'request path "x": rate limit quota exceeded')],
    ["a standby not yet consistent", api(412)],
    [
      "a backend that failed to revoke",
      api(400, "failed to revoke entry: resp: (*logical.Response)(nil) err: x"),
    ],
  ])("%s is retried", (_, err) => {
    expect(classifyVaultError(err, "revoking")).toBeInstanceOf(TransientProviderError);
  });

  it.each([
    ["permission denied", api(403, "1 error occurred:\n\t* permission denied\n\n")],
    ["a bad request", api(400, "lease_id must be specified")],
    ["a missing path", api(404)],
    ["a malformed response", new VaultResponseError("p", "auth: required")],
  ])("%s stops retrying", (_, err) => {
    expect(classifyVaultError(err, "revoking")).toBeInstanceOf(PermanentProviderError);
  });

  it("a permission denial names the path the broker's policy lacks, in one line", () => {
    const err = classifyVaultError(
      api(403, "1 error occurred:\n\t* permission denied\n\n"),
      "revoking a Vault lease",
    );
    expect(err.message).toBe(
      "Vault denied revoking a Vault lease (403 permission denied): the broker's Vault token lacks the policy for sys/leases/revoke",
    );
  });

  it("an already revoked token or lease counts as revoked", () => {
    expect(isAlreadyGone(api(400, "invalid accessor"))).toBe(true);
    expect(isAlreadyGone(api(400, "lease not found"))).toBe(true);
    expect(isAlreadyGone(api(400, "missing accessor"))).toBe(false);
    expect(isAlreadyGone(api(403, "invalid accessor"))).toBe(false);
  });

  it("programmer errors are not disguised as provider errors", () => {
    expect(() => classifyVaultError(new TypeError("x is undefined"), "issuing")).toThrow(TypeError);
  });
});
