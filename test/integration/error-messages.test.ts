import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../support/broker-harness.js";
import { TEST_POLICY } from "../support/test-policy.js";

/** 401 and 403 answers say which check failed, and for 403 who asked for what, without secrets. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ name: "errormessages", policy: TEST_POLICY });
});
afterAll(async () => h?.close());

describe("refusals that explain themselves", () => {
  it("a 403 names the principal, the action and the deciding policies", async () => {
    const agent = await h.token("summariser");
    const task = await h.call("POST", "/v1/tasks", { token: agent, body: { intent: "x", ttl_seconds: 60 } });
    const denied = await h.call("GET", "/v1/audit", { token: agent });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(
      /does not allow ci:summariser to ReadAudit here \(no policy permits it\)/,
    );
    expect(denied.body.error.details).toMatchObject({ action: "ReadAudit", policies: [] });
    expect(task.status).toBe(201);
  });

  it("a 401 names the failed check and never echoes the token", async () => {
    const expired = await h.issuer.mint({ sub: "x", aud: "credbroker-test" }, { expiresInSeconds: -600 });
    const res = await h.call("GET", "/v1/tasks/tsk_x", { token: expired });
    expect(res.status).toBe(401);
    expect(res.body.error.details.reason).toBe("expired");
    expect(res.text).not.toContain(expired);
  });
});
