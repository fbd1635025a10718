import { afterEach, describe, expect, it } from "vitest";
import type { Approval } from "../../../src/approvals/approval-types.js";
import { createApprovalWebhook } from "../../../src/approvals/approval-webhook.js";
import { type OversizedBodyServer, startOversizedBodyServer } from "../../sims/oversized-body-server.js";

const MB = 1024 * 1024;
const HUGE = 50 * MB;
const now = Date.now();

const approval: Approval = {
  id: "apr_1",
  taskId: "tsk_1",
  requester: "ci:alice",
  requesterIdentity: { issuer: "ci", subject: "alice", email: "", username: "" },
  profile: "db",
  provider: "vault",
  scopes: [],
  ttlSeconds: null,
  reason: "triage",
  requestHash: "h",
  policySetHash: "p",
  policyIds: [],
  createdAt: now,
  expiresAt: now + 60_000,
  state: "pending",
  decidedBy: null,
  decidedAt: null,
  comment: null,
  credentialId: null,
  note: null,
};

let server: OversizedBodyServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function deliverTo(url: string) {
  return createApprovalWebhook({
    store: { get: async () => approval },
    target: { url, secret: Buffer.alloc(32, 1), timeoutMs: 5_000 },
    publicUrl: "https://broker.test",
    clock: { now: () => Date.now() },
  });
}

describe("approval webhook responses", () => {
  it("a receiver answering 200 with a 50 MB body is delivered without reading the body", async () => {
    server = await startOversizedBodyServer({ totalBytes: HUGE });
    const startedAt = Date.now();
    await deliverTo(server.url)(approval.id);
    const answer = await server.nextAnswer();
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(answer.closedEarly).toBe(true);
    expect(answer.bytesSent).toBeLessThan(HUGE / 4);
  });

  it("a receiver answering 500 with a 50 MB body fails the delivery (to be retried), body unread", async () => {
    server = await startOversizedBodyServer({ totalBytes: HUGE, status: 500 });
    await expect(deliverTo(server.url)(approval.id)).rejects.toThrow("approval webhook answered 500");
    const answer = await server.nextAnswer();
    expect(answer.closedEarly).toBe(true);
    expect(answer.bytesSent).toBeLessThan(HUGE / 4);
  });
});
