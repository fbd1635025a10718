import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createPolicyEngine } from "../../../src/policy/policy-engine.js";
import { loadPolicyFiles } from "../../../src/policy/policy-loader.js";
import type { PolicyRequest } from "../../../src/policy/policy-types.js";
import {
  agent,
  approveRequest,
  brokerRequest,
  captureLogger,
  credentialRequest,
  introspectRequest,
  operator,
  outsider,
  policyDir,
  REPO_ROOT,
  subscribeRequest,
  taskRequest,
  ticketsResourceServer,
} from "./policy-fixtures.js";

const TASK_ACTIONS = ["OpenTask", "DelegateTask", "CloseTask", "ReadTask"] as const;

function engineFor(file: string) {
  return createPolicyEngine({ files: [file], baseDir: REPO_ROOT, logger: captureLogger().logger });
}

describe("examples/policies/example.cedar", () => {
  const engine = engineFor("examples/policies/example.cedar");

  it("loads with the documented policy ids", () => {
    expect(engine.info().policyIds).toEqual([
      "ci-agents-tasks",
      "ci-agents-tickets-api",
      "tickets-write-needs-approval",
      "operator-broker-powers",
      "operator-approves-others",
      "never-the-requester",
      "resource-servers-introspect",
      "ci-agents-introspect-own-tokens",
      "resource-servers-subscribe",
    ]);
  });

  it("lets ci workloads in namespace agents open, delegate, close and read tasks", () => {
    for (const action of TASK_ACTIONS) {
      const decision = engine.authorize(taskRequest(action, agent));
      expect(decision).toMatchObject({ effect: "allow", policyIds: ["ci-agents-tasks"] });
    }
  });

  it("denies task actions to workloads of another namespace, issuer or kind", () => {
    const otherIssuer = { ...agent, id: "gh:repo:acme/x", issuer: "gh" };
    const noNamespace = { ...agent, tags: {} };
    for (const principal of [outsider, otherIssuer, noNamespace, operator]) {
      expect(engine.authorize(taskRequest("OpenTask", principal))).toMatchObject({
        effect: "deny",
        policyIds: [],
      });
    }
  });

  it("grants tickets-api read credentials capped at 600 seconds", () => {
    const decision = engine.authorize(credentialRequest(agent, { scopes: ["tickets:read"] }));
    expect(decision).toEqual({
      effect: "allow",
      policyIds: ["ci-agents-tickets-api"],
      maxTtlSeconds: 600,
      policySetHash: engine.info().hash,
    });
  });

  it("asks for approval before tickets:write and allows it once approved", () => {
    const pending = engine.authorize(credentialRequest(agent, { scopes: ["tickets:read", "tickets:write"] }));
    expect(pending).toMatchObject({
      effect: "approval_required",
      policyIds: ["tickets-write-needs-approval"],
    });

    const approved = engine.authorize(
      credentialRequest(agent, { scopes: ["tickets:read", "tickets:write"], approved: true }),
    );
    expect(approved).toMatchObject({
      effect: "allow",
      policyIds: ["ci-agents-tickets-api"],
      maxTtlSeconds: 600,
    });
  });

  it("denies outright when approval could not help: a scope outside tickets:* or another profile", () => {
    const extraScope = engine.authorize(credentialRequest(agent, { scopes: ["tickets:write", "admin"] }));
    expect(extraScope).toMatchObject({ effect: "deny", policyIds: ["tickets-write-needs-approval"] });

    const otherProfile = engine.authorize(credentialRequest(agent, { profile: "billing-db", scopes: [] }));
    expect(otherProfile).toMatchObject({ effect: "deny", policyIds: [] });

    const outsiderAsks = engine.authorize(credentialRequest(outsider, { scopes: ["tickets:read"] }));
    expect(outsiderAsks).toMatchObject({ effect: "deny", policyIds: [] });
  });

  it("gives the operator its broker powers and nobody else", () => {
    for (const action of ["EmergencyRevoke", "ReadAudit", "RotateKeys"] as const) {
      expect(engine.authorize(brokerRequest(action, operator))).toMatchObject({
        effect: "allow",
        policyIds: ["operator-broker-powers"],
      });
      expect(engine.authorize(brokerRequest(action, agent))).toMatchObject({ effect: "deny", policyIds: [] });
    }
    const auditOfTask: PolicyRequest = { ...taskRequest("ReadTask", agent), action: "ReadAudit" };
    auditOfTask.context = { now: 1_800_000_000 };
    expect(engine.authorize({ ...auditOfTask, principal: operator }).effect).toBe("allow");
  });

  it("lets the operator approve other principals' requests but not its own", () => {
    expect(engine.authorize(approveRequest(operator, agent.id))).toMatchObject({
      effect: "allow",
      policyIds: ["operator-approves-others"],
    });
    expect(engine.authorize(approveRequest(operator, operator.id))).toMatchObject({ effect: "deny" });
    expect(engine.authorize(approveRequest(agent, operator.id))).toMatchObject({ effect: "deny" });
  });

  it("lets a token be introspected by its audience's resource server, its agent and the operator only", () => {
    const allowed = [
      [introspectRequest(ticketsResourceServer), "resource-servers-introspect"],
      [introspectRequest(agent, { callerIsAgent: true }), "ci-agents-introspect-own-tokens"],
      [introspectRequest(operator), "operator-broker-powers"],
    ] as const;
    for (const [request, policy] of allowed) {
      expect(engine.authorize(request)).toMatchObject({ effect: "allow", policyIds: [policy] });
    }
    const otherAudience = introspectRequest(ticketsResourceServer, { audience: "https://reports.internal" });
    for (const request of [introspectRequest(outsider), introspectRequest(agent), otherAudience]) {
      expect(engine.authorize(request)).toMatchObject({ effect: "deny", policyIds: [] });
    }
  });

  it("lets resource servers subscribe to security events, and no workload", () => {
    expect(engine.authorize(subscribeRequest(ticketsResourceServer))).toMatchObject({
      effect: "allow",
      policyIds: ["resource-servers-subscribe"],
    });
    for (const principal of [agent, operator, outsider]) {
      expect(engine.authorize(subscribeRequest(principal))).toMatchObject({ effect: "deny" });
    }
  });
});

describe("policies/default.cedar", () => {
  it("holds no policies and denies every action", () => {
    const engine = engineFor("policies/default.cedar");
    expect(engine.info().count).toBe(0);
    const requests: PolicyRequest[] = [
      ...TASK_ACTIONS.map((action) => taskRequest(action, agent)),
      credentialRequest(agent, { approved: true }),
      approveRequest(operator, agent.id),
      brokerRequest("EmergencyRevoke", operator),
      brokerRequest("ReadAudit", operator),
      brokerRequest("RotateKeys", operator),
      introspectRequest(operator),
      introspectRequest(ticketsResourceServer),
      subscribeRequest(ticketsResourceServer),
    ];
    for (const request of requests) {
      expect(engine.authorize(request)).toEqual({
        effect: "deny",
        policyIds: [],
        policySetHash: engine.info().hash,
      });
    }
  });
});

describe("docs/policy.md", () => {
  it("has only examples that pass schema validation", () => {
    const markdown = fs.readFileSync(path.join(REPO_ROOT, "docs/policy.md"), "utf8");
    const examples = [...markdown.matchAll(/```cedar\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    expect(examples.length).toBeGreaterThanOrEqual(5);
    const dir = policyDir(Object.fromEntries(examples.map((text, i) => [`example-${i}.cedar`, text])));
    try {
      expect(loadPolicyFiles(["*.cedar"], dir.dir).policies.size).toBeGreaterThanOrEqual(10);
    } finally {
      dir.cleanup();
    }
  });
});
