import { describe, expect, it } from "vitest";
import { grantTtl } from "../../../src/credentials/granted-ttl.js";

const bounds = { min: 1, max: 900 };

describe("the granted TTL", () => {
  it("is the smallest of the request, the profile, the policy and the task's remaining time", () => {
    const base = {
      requestedSeconds: 600,
      providerBounds: bounds,
      policyMaxSeconds: 300,
      taskRemainingSeconds: 1_000,
    };
    expect(grantTtl(base)).toEqual({ seconds: 300, notes: [] });
    expect(grantTtl({ ...base, taskRemainingSeconds: 120 }).seconds).toBe(120);
    expect(grantTtl({ ...base, requestedSeconds: 60 }).seconds).toBe(60);
    expect(grantTtl({ ...base, policyMaxSeconds: undefined, requestedSeconds: undefined }).seconds).toBe(900);
  });

  it("rounds down to whole seconds, never past the task", () => {
    const granted = grantTtl({
      requestedSeconds: undefined,
      providerBounds: bounds,
      policyMaxSeconds: undefined,
      taskRemainingSeconds: 59.9,
    });
    expect(granted.seconds).toBe(59);
  });

  it("below the provider's minimum grants the minimum and says the credential is revoked actively", () => {
    const granted = grantTtl({
      requestedSeconds: 300,
      providerBounds: { min: 900, max: 3_600 },
      policyMaxSeconds: undefined,
      taskRemainingSeconds: 400,
    });
    expect(granted.seconds).toBe(900);
    expect(granted.notes).toEqual([expect.stringMatching(/minimum lifetime is 900 s.*revoked actively/)]);
  });
});
