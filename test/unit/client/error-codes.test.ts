import { describe, expect, expectTypeOf, it } from "vitest";
import type { BrokerErrorCode as ClientBrokerErrorCode } from "../../../src/client/errors.js";
import { BrokerError, type BrokerErrorCode } from "../../../src/shared/errors.js";

/** Equality of two types, checked by the compiler (`npm run typecheck` runs over the tests too). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

describe("the client SDK's error codes", () => {
  it("are exactly the codes the server answers with (a code added on one side fails to compile)", () => {
    const same: Equal<ClientBrokerErrorCode, BrokerErrorCode> = true;
    expect(same).toBe(true);
    expectTypeOf<ClientBrokerErrorCode>().toEqualTypeOf<BrokerErrorCode>();
  });

  it("every server code maps to an HTTP status", () => {
    const codes: Record<BrokerErrorCode, true> = {
      invalid_request: true,
      invalid_assertion: true,
      invalid_client: true,
      policy_denied: true,
      not_found: true,
      task_not_open: true,
      approval_not_pending: true,
      payload_too_large: true,
      unknown_profile: true,
      ttl_out_of_range: true,
      scope_not_allowed: true,
      rate_limited: true,
      quota_exceeded: true,
      provider_error: true,
      unavailable: true,
      internal_error: true,
    };
    for (const code of Object.keys(codes) as BrokerErrorCode[]) {
      expect(new BrokerError(code, "x").status).toBeGreaterThanOrEqual(400);
    }
  });
});
