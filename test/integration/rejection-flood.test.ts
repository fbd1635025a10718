import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { TEST_POLICY } from "../support/test-policy.js";

/**
 * Unauthenticated audit flooding: one address sends hundreds of bad assertions. The audit log gets a few
 * samples and one counted summary, not an event per request; past its budget the address is refused
 * before verification; another address (behind the same trusted proxy) is not affected.
 */

const POLICY = `${TEST_POLICY}
@id("auditor")
permit (principal == Credbroker::Workload::"ci:auditor", action == Credbroker::Action::"ReadAudit", resource);
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    name: "rejectflood",
    policy: POLICY,
    config: {
      server: {
        port: 0,
        worker_port: 0,
        audience: "credbroker-test",
        public_url: "http://127.0.0.1:1",
        trust_proxy: 1,
      },
      limits: { rejected_assertions_per_address_per_minute: 50 },
      audit: { rejection_interval_seconds: 1, rejection_samples: 3 },
    },
  });
});
afterAll(async () => h?.close());

const from = (address: string) => ({ "x-forwarded-for": address });

describe("a flood of rejected assertions", () => {
  it("is sampled and summarised, the address is refused unverified past its budget, and others are unaffected", async () => {
    const auditor = await h.token("auditor");
    const count = async (type: string) =>
      (
        await h.call("GET", "/v1/audit?limit=1000", { token: auditor, headers: from("198.51.100.1") })
      ).body.events.filter((e: { type: string }) => e.type === type);
    const statuses: Record<number, number> = {};
    for (let i = 0; i < 300; i++) {
      const res = await h.call("GET", "/v1/tasks/tsk_x", {
        token: `garbage.${i}.x`,
        headers: from("203.0.113.7"),
      });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
    expect(statuses[401]).toBe(50);
    expect(statuses[429]).toBe(250);

    const legit = await h.token("summariser");
    const open = await h.call("POST", "/v1/tasks", {
      token: legit,
      headers: from("198.51.100.1"),
      body: { intent: "unaffected", ttl_seconds: 60 },
    });
    expect(open.status).toBe(201);

    // Summaries are per interval (1 s here): add them up per reason until all 300 are accounted for.
    type Summary = { reason: string; details: { count: number; top_addresses: { address: string }[] } };
    const summaries: Summary[] = await waitFor(
      async () => {
        const found: Summary[] = await count("assertion.rejections");
        return found.reduce((n, s) => n + s.details.count, 0) >= 300 ? found : null;
      },
      5_000,
      "rejection summaries",
    );
    const total = (reason: (r: string) => boolean) =>
      summaries.filter((s) => reason(s.reason)).reduce((n, s) => n + s.details.count, 0);
    expect(total((r) => r === "address_limited")).toBe(250);
    expect(total((r) => r !== "address_limited")).toBe(50);
    for (const summary of summaries) expect(summary.details.top_addresses[0]?.address).toBe("203.0.113.7");
    expect((await count("assertion.rejected")).length).toBeLessThanOrEqual(3 * 3);
  });
});
