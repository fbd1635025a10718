import { afterEach, describe, expect, it } from "vitest";
import { createPolicyEngine } from "../../../src/policy/policy-engine.js";
import type { CedarValue, PolicyRequest } from "../../../src/policy/policy-types.js";
import {
  agent,
  brokerRequest,
  captureLogger,
  credentialRequest,
  operator,
  policyDir,
} from "./policy-fixtures.js";

const REQUEST_CREDENTIAL = `action == Credbroker::Action::"RequestCredential"`;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function engineWith(policies: string, decisionCacheSize = 100) {
  const dir = policyDir({ "p.cedar": policies });
  cleanups.push(dir.cleanup);
  const { logger } = captureLogger();
  const engine = createPolicyEngine({ files: ["*.cedar"], baseDir: dir.dir, logger, decisionCacheSize });
  return { engine, dir };
}

const base = (): PolicyRequest => credentialRequest(agent);

const withContext = (changes: Record<string, CedarValue>) => (r: PolicyRequest) => ({
  ...r,
  context: { ...r.context, ...changes },
});
const withTask = (changes: Record<string, CedarValue>) => (r: PolicyRequest) => {
  const task = r.context.task as Record<string, CedarValue>;
  return { ...r, context: { ...r.context, task: { ...task, ...changes } } };
};
const withPrincipal = (changes: Partial<PolicyRequest["principal"]>) => (r: PolicyRequest) => ({
  ...r,
  principal: { ...r.principal, ...changes },
});

interface AttributeCase {
  /** A condition true of the base request. */
  when: string;
  /** The same request with exactly the input the condition reads changed, so the condition is false. */
  change: (request: PolicyRequest) => PolicyRequest;
  /** Whether the analysis may remember the decision (false: clock-dependent or unprojectable). */
  cacheable: boolean;
}

/** Every input of `RequestCredential` in the schema, each read by one policy and changed alone. */
const CASES: Record<string, AttributeCase> = {
  "principal.issuer": {
    when: `principal.issuer == "ci"`,
    change: withPrincipal({ issuer: "gh" }),
    cacheable: true,
  },
  "principal.subject": {
    when: `principal.subject like "*:summariser"`,
    change: withPrincipal({ subject: "system:serviceaccount:agents:builder" }),
    cacheable: true,
  },
  "principal.kind": {
    when: `principal.kind == "kubernetes"`,
    change: withPrincipal({ kind: "oidc" }),
    cacheable: true,
  },
  "principal tag value": {
    when: `principal.hasTag("namespace") && principal.getTag("namespace") == "agents"`,
    change: withPrincipal({ tags: { ...agent.tags, namespace: "default" } }),
    cacheable: true,
  },
  "principal tag presence": {
    when: `principal.hasTag("service_account")`,
    change: withPrincipal({ tags: { namespace: "agents" } }),
    cacheable: true,
  },
  "principal identity": {
    when: `principal == Credbroker::Workload::"${agent.id}"`,
    change: withPrincipal({ id: "ci:someone-else" }),
    cacheable: true,
  },
  "resource identity": {
    when: `resource == Credbroker::Profile::"tickets-api"`,
    change: (r) => ({ ...r, resource: { type: "Profile", id: "billing-api", provider: "signer" } }),
    cacheable: true,
  },
  "resource.provider": {
    when: `resource.provider == "signer"`,
    change: (r) => ({ ...r, resource: { type: "Profile", id: "tickets-api", provider: "vault" } }),
    cacheable: true,
  },
  "context.profile": {
    when: `context.profile == "tickets-api"`,
    change: withContext({ profile: "x" }),
    cacheable: true,
  },
  "context.provider": {
    when: `context.provider == "signer"`,
    change: withContext({ provider: "sts" }),
    cacheable: true,
  },
  "context.ttl_seconds": {
    when: `context.ttl_seconds <= 300`,
    change: withContext({ ttl_seconds: 301 }),
    cacheable: true,
  },
  "context.scopes": {
    when: `context.scopes.contains("tickets:read")`,
    change: withContext({ scopes: ["tickets:write"] }),
    cacheable: true,
  },
  "context.reason": {
    when: `context.reason like "*incidents"`,
    change: withContext({ reason: "x" }),
    cacheable: true,
  },
  "context.approved": { when: `!context.approved`, change: withContext({ approved: true }), cacheable: true },
  "context.task.id": {
    when: `context.task.id == "tsk_root"`,
    change: withTask({ id: "tsk_other" }),
    cacheable: true,
  },
  "context.task.intent": {
    when: `context.task.intent like "Summarise*"`,
    change: withTask({ intent: "Delete everything" }),
    cacheable: true,
  },
  "context.task.initiator": {
    when: `context.task.initiator == "alice@example.com"`,
    change: withTask({ initiator: "mallory@example.com" }),
    cacheable: true,
  },
  "context.task.initiator_verified": {
    when: `context.task.initiator_verified`,
    change: withTask({ initiator_verified: false }),
    cacheable: true,
  },
  "context.task.owner": {
    when: `context.task.owner == principal.subject || context.task.owner == "${agent.id}"`,
    change: withTask({ owner: "ci:other" }),
    cacheable: true,
  },
  "context.task.agent": {
    when: `context.task.agent == "${agent.id}"`,
    change: withTask({ agent: "ci:x" }),
    cacheable: true,
  },
  "context.task.depth": { when: `context.task.depth == 0`, change: withTask({ depth: 1 }), cacheable: true },
  "context.task.profiles": {
    when: `context.task.profiles.contains("tickets-api")`,
    change: withTask({ profiles: [] }),
    cacheable: true,
  },
  "context.task.parent_id": {
    when: `context.task.parent_id == ""`,
    change: withTask({ parent_id: "tsk_p" }),
    cacheable: true,
  },
  "a nested has": {
    when: `context has task.depth && context.task.depth < 1`,
    change: withTask({ depth: 2 }),
    cacheable: true,
  },
  "context.task.remaining_seconds": {
    when: `context.task.remaining_seconds > 600`,
    change: withTask({ remaining_seconds: 599 }),
    cacheable: false,
  },
  "context.now": {
    when: `context.now < 1800000001`,
    change: withContext({ now: 1_800_000_001 }),
    cacheable: false,
  },
  "the whole context in a record": {
    when: `{ c: context }.c.reason == "list open incidents"`,
    change: withContext({ reason: "x" }),
    cacheable: false,
  },
  "an attribute read inside a record literal whose keys look like operators": {
    when: `{ "Value": principal.issuer, "Var": principal.kind } == { "Value": "ci", "Var": "kubernetes" }`,
    change: withPrincipal({ issuer: "gh" }),
    cacheable: true,
  },
  "an attribute of an if-then-else": {
    when: `(if context.approved then resource else resource).provider == "signer"`,
    change: (r) => ({ ...r, resource: { type: "Profile", id: "tickets-api", provider: "vault" } }),
    cacheable: false,
  },
};

describe("the decision cache", () => {
  for (const [name, { when, change, cacheable }] of Object.entries(CASES)) {
    it(`decides afresh when ${name} changes`, () => {
      const { engine } = engineWith(
        `@id("p") permit(principal, ${REQUEST_CREDENTIAL}, resource) when { ${when} };`,
      );
      expect(engine.authorize(base()).effect).toBe("allow");
      expect(engine.authorize(base()).effect).toBe("allow");
      expect(engine.authorize(change(base())).effect).toBe("deny");
      expect(engine.authorize(base()).effect).toBe("allow");
      const { hits } = engine.cacheStats();
      if (cacheable) expect(hits).toBe(2);
      else expect(hits).toBe(0);
    });
  }

  it("covers every context and task attribute a credential request carries", () => {
    const { task, ...context } = base().context;
    const expected = [
      ...Object.keys(context).map((key) => `context.${key}`),
      ...Object.keys(task as Record<string, CedarValue>).map((key) => `context.task.${key}`),
    ];
    expect(expected.filter((path) => !(path in CASES))).toEqual([]);
  });

  it("keys on what the policies read: a change to an input no policy reads is a hit", () => {
    const { engine } = engineWith(
      `permit(principal, ${REQUEST_CREDENTIAL}, resource) when { principal.issuer == "ci" };`,
    );
    engine.authorize(base());
    const other = withTask({ id: "tsk_other", remaining_seconds: 10 })(
      withContext({ reason: "else" })(base()),
    );
    expect(engine.authorize(other).effect).toBe("allow");
    expect(engine.cacheStats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
  });

  it("a clock-reading policy of another action leaves this action cacheable", () => {
    const { engine } = engineWith(`
      permit(principal, ${REQUEST_CREDENTIAL}, resource);
      permit(principal, action == Credbroker::Action::"ReadAudit", resource) when { context.now > 0 };`);
    engine.authorize(base());
    engine.authorize(base());
    engine.authorize(brokerRequest("ReadAudit", operator));
    engine.authorize(brokerRequest("ReadAudit", operator));
    expect(engine.cacheStats()).toMatchObject({ hits: 1, uncacheable: 2 });
  });

  it("remembers an approval hold exactly as Cedar decides it, and an approved request apart from it", () => {
    const { engine } = engineWith(`
      @id("all") permit(principal, ${REQUEST_CREDENTIAL}, resource);
      @id("write") @approval("required") forbid(principal, ${REQUEST_CREDENTIAL}, resource)
        when { context.scopes.contains("tickets:write") } unless { context.approved };`);
    const write = withContext({ scopes: ["tickets:write"] })(base());
    for (let i = 0; i < 2; i++)
      expect(engine.authorize(write)).toMatchObject({ effect: "approval_required", policyIds: ["write"] });
    expect(engine.authorize(withContext({ approved: true })(write)).effect).toBe("allow");
    expect(engine.cacheStats().hits).toBe(1);
  });

  it("a reloaded policy set answers with its own decisions", () => {
    const { engine, dir } = engineWith(`permit(principal, ${REQUEST_CREDENTIAL}, resource);`);
    expect(engine.authorize(base()).effect).toBe("allow");
    dir.write({ "p.cedar": `forbid(principal, ${REQUEST_CREDENTIAL}, resource);` }, dir.dir);
    expect(engine.reload().ok).toBe(true);
    expect(engine.authorize(base()).effect).toBe("deny");
  });

  it("stays within its bound and, at size 0, asks Cedar every time", () => {
    const { engine } = engineWith(
      `permit(principal, ${REQUEST_CREDENTIAL}, resource) when { context.reason != "" };`,
      2,
    );
    for (const reason of ["a", "b", "c", "d"]) engine.authorize(withContext({ reason })(base()));
    expect(engine.cacheStats().entries).toBe(2);
    const off = engineWith(`permit(principal, ${REQUEST_CREDENTIAL}, resource);`, 0).engine;
    off.authorize(base());
    off.authorize(base());
    expect(off.cacheStats()).toMatchObject({ hits: 0, entries: 0, uncacheable: 2 });
  });

  it("a caller that changes a returned decision does not change what the cache answers next", () => {
    const { engine } = engineWith(`@id("p") permit(principal, ${REQUEST_CREDENTIAL}, resource);`);
    engine.authorize(base()).policyIds.push("forged");
    expect(engine.authorize(base()).policyIds).toEqual(["p"]);
  });
});
