import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OidcIssuerSim, startOidcIssuerSim } from "../sims/oidc-issuer.js";
import { type Harness, startHarness } from "../support/broker-harness.js";
import { TEST_POLICY } from "../support/test-policy.js";

/**
 * "Never the requester" across issuers: the same human holds identities from two trusted issuers (`ci` for
 * workloads, `corp` for people). The shipped policy's `never-the-requester` rule, fed the normalised
 * identities of both sides, refuses the approval; a different human may approve.
 */

const SHIPPED = readFileSync(path.resolve(import.meta.dirname, "../../examples/policies/dev.cedar"), "utf8");
/** The shipped rule alone (it ends at the first blank line after its comment). */
const ruleStart = SHIPPED.indexOf("// Never the requester");
const NEVER_THE_REQUESTER = SHIPPED.slice(ruleStart, SHIPPED.indexOf("\n\n", ruleStart));
const POLICY = `${TEST_POLICY}
@id("write-needs-approval")
@approval("required")
forbid (principal, action == Credbroker::Action::"RequestCredential", resource)
when { context.scopes.contains("tickets:write") && !context.approved };

@id("corp-approves")
permit (principal, action == Credbroker::Action::"Approve", resource)
when { principal.issuer == "corp" };

${NEVER_THE_REQUESTER}`;

let h: Harness;
let ci: OidcIssuerSim;
let corp: OidcIssuerSim;

beforeAll(async () => {
  ci = await startOidcIssuerSim();
  corp = await startOidcIssuerSim();
  h = await startHarness({
    name: "approvalidentity",
    policy: POLICY,
    issuer: ci,
    config: {
      issuers: [
        ci.issuerConfig({ name: "ci", jwks_cooldown_seconds: 0 }),
        corp.issuerConfig({ name: "corp", jwks_cooldown_seconds: 0 }),
      ],
    },
  });
}, 30_000);

afterAll(async () => {
  await h?.close();
  await ci?.close();
  await corp?.close();
});

const person = (sub: string, email: string) => corp.mint({ sub, aud: "credbroker-test", email });

async function pendingApproval(): Promise<string> {
  const agent = await ci.mint({ sub: "alice", aud: "credbroker-test", email: "Alice@Example.com" });
  const task = await h.call("POST", "/v1/tasks", { token: agent, body: { intent: "x", ttl_seconds: 600 } });
  const res = await h.call("POST", `/v1/tasks/${task.body.task_id}/credentials`, {
    token: agent,
    body: { profile: "tickets-api", scopes: ["tickets:write"] },
  });
  expect(res.status, res.text).toBe(202);
  return res.body.approval_id;
}

describe("approving across issuers", () => {
  it("the same subject under another issuer cannot approve its own request", async () => {
    const approvalId = await pendingApproval();
    const res = await h.call("POST", `/v1/approvals/${approvalId}/approve`, {
      token: await person("alice", "someone@example.com"),
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("policy_denied");
  });

  it("nor can another subject with the requester's e-mail (compared case-insensitively)", async () => {
    const approvalId = await pendingApproval();
    const res = await h.call("POST", `/v1/approvals/${approvalId}/approve`, {
      token: await person("a.liddell", "alice@example.com"),
    });
    expect(res.status).toBe(403);
  });

  it("a different human approves, and the decision was taken on both identities", async () => {
    const approvalId = await pendingApproval();
    const bob = await person("bob", "bob@example.com");
    const res = await h.call("POST", `/v1/approvals/${approvalId}/approve`, { token: bob });
    expect(res.status, res.text).toBe(200);
    expect(res.body.state).toBe("approved");
  });
});
