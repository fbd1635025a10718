import { afterEach, describe, expect, it } from "vitest";
import { createPolicyEngine } from "../../../src/policy/policy-engine.js";
import { PolicyLoadError } from "../../../src/policy/policy-loader.js";
import { agent, captureLogger, credentialRequest, policyDir, taskRequest } from "./policy-fixtures.js";

const REQUEST_CREDENTIAL = `action == Credbroker::Action::"RequestCredential"`;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function engineWith(files: Record<string, string>, patterns = ["*.cedar"]) {
  const dir = policyDir(files);
  cleanups.push(dir.cleanup);
  const log = captureLogger();
  const engine = createPolicyEngine({ files: patterns, baseDir: dir.dir, logger: log.logger });
  return { engine, dir, log };
}

describe("policy decisions", () => {
  it("grants the smallest @max_ttl among the permits that determined the allow", () => {
    const { engine } = engineWith({
      "ttl.cedar": `
        @id("long") @max_ttl("900") permit(principal, ${REQUEST_CREDENTIAL}, resource);
        @id("short") @max_ttl("300") permit(principal, ${REQUEST_CREDENTIAL}, resource);
        @id("plain") permit(principal, ${REQUEST_CREDENTIAL}, resource);
        @id("not-matching") @max_ttl("60") permit(principal, ${REQUEST_CREDENTIAL}, resource)
          when { context.profile == "something-else" };`,
    });
    expect(engine.authorize(credentialRequest(agent))).toMatchObject({
      effect: "allow",
      policyIds: ["long", "plain", "short"],
      maxTtlSeconds: 300,
    });
  });

  it("leaves maxTtlSeconds undefined when no determining permit carries @max_ttl", () => {
    const { engine } = engineWith({ "p.cedar": `permit(principal, ${REQUEST_CREDENTIAL}, resource);` });
    const decision = engine.authorize(credentialRequest(agent));
    expect(decision).toMatchObject({ effect: "allow", policyIds: ["p:0"] });
    expect(decision.effect === "allow" && decision.maxTtlSeconds).toBeUndefined();
  });

  it("denies by default with no policy ids when nothing permits", () => {
    const { engine } = engineWith({
      "p.cedar": `permit(principal, ${REQUEST_CREDENTIAL}, resource) when { false };`,
    });
    expect(engine.authorize(credentialRequest(agent))).toEqual({
      effect: "deny",
      policyIds: [],
      policySetHash: engine.info().hash,
    });
  });

  const approvalSet = {
    "approval.cedar": `
      @id("allow-all") permit(principal, ${REQUEST_CREDENTIAL}, resource);
      @id("write-needs-approval") @approval("required")
      forbid(principal, ${REQUEST_CREDENTIAL}, resource)
        when { context.scopes.contains("write") } unless { context.approved };
      @id("no-admin") forbid(principal, ${REQUEST_CREDENTIAL}, resource)
        when { context.scopes.contains("admin") };`,
  };

  it("asks for approval when only @approval forbids stand between the request and a permit", () => {
    const { engine } = engineWith(approvalSet);
    expect(engine.authorize(credentialRequest(agent, { scopes: ["write"] }))).toMatchObject({
      effect: "approval_required",
      policyIds: ["write-needs-approval"],
    });
  });

  it("allows the same request once it is approved", () => {
    const { engine } = engineWith(approvalSet);
    expect(engine.authorize(credentialRequest(agent, { scopes: ["write"], approved: true }))).toMatchObject({
      effect: "allow",
      policyIds: ["allow-all"],
    });
  });

  it("denies outright when another forbid also matches, approval or not", () => {
    const { engine } = engineWith(approvalSet);
    expect(engine.authorize(credentialRequest(agent, { scopes: ["write", "admin"] }))).toMatchObject({
      effect: "deny",
      policyIds: ["no-admin", "write-needs-approval"],
    });
  });

  it("denies outright when approval would not produce an allow", () => {
    const { engine } = engineWith({
      "p.cedar": `@id("gate") @approval("required") forbid(principal, ${REQUEST_CREDENTIAL}, resource)
        unless { context.approved };`,
    });
    expect(engine.authorize(credentialRequest(agent))).toMatchObject({ effect: "deny", policyIds: ["gate"] });
  });

  it("reads principal tags, task attributes and task context", () => {
    const { engine } = engineWith({
      "depth.cedar": `
        @id("agents-delegate") permit(principal, action == Credbroker::Action::"DelegateTask", resource)
          when { principal.hasTag("namespace") && principal.getTag("namespace") == "agents"
                 && resource.hasTag("ticket") && resource.getTag("ticket") like "INC-*" };
        @id("depth-cap") forbid(principal, action == Credbroker::Action::"DelegateTask", resource)
          when { context.task.depth >= 3 };`,
    });
    expect(engine.authorize(taskRequest("DelegateTask", agent, 2)).effect).toBe("allow");
    expect(engine.authorize(taskRequest("DelegateTask", agent, 3))).toMatchObject({
      effect: "deny",
      policyIds: ["depth-cap"],
    });
  });

  it("skips a permit whose evaluation errors, and logs the error", () => {
    const { engine, log } = engineWith({
      "overflow.cedar": `@id("overflows") permit(principal, ${REQUEST_CREDENTIAL}, resource)
        when { context.ttl_seconds * 4611686018427387904 > 0 };`,
    });
    expect(engine.authorize(credentialRequest(agent, { ttlSeconds: 300 }))).toMatchObject({
      effect: "deny",
      policyIds: [],
    });
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 50, policy_id: "overflows" }));
  });

  it("throws on a request that does not match the schema (a programmer error)", () => {
    const { engine } = engineWith({ "p.cedar": `permit(principal, ${REQUEST_CREDENTIAL}, resource);` });
    const request = credentialRequest(agent);
    const { approved: _dropped, ...withoutApproved } = request.context;
    expect(() => engine.authorize({ ...request, context: withoutApproved })).toThrow(/RequestCredential/);
  });

  it("refuses to start on a broken policy set", () => {
    const dir = policyDir({ "bad.cedar": "permit(principal, action, resource) when { context.nope };" });
    cleanups.push(dir.cleanup);
    expect(() =>
      createPolicyEngine({ files: ["*.cedar"], baseDir: dir.dir, logger: captureLogger().logger }),
    ).toThrow(PolicyLoadError);
  });

  it("decides quickly enough to report a rate", () => {
    const { engine, log } = engineWith({
      "p.cedar": `@max_ttl("600") permit(principal, ${REQUEST_CREDENTIAL}, resource)
        when { principal.hasTag("namespace") && principal.getTag("namespace") == "agents" };`,
    });
    const request = credentialRequest(agent);
    const count = 1_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) engine.authorize(request);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    log.logger.info({ decisions_per_second: Math.round(count / seconds) }, "policy decision rate");
    console.log(`policy engine: ${Math.round(count / seconds)} decisions/s`);
    expect(engine.authorize(request).effect).toBe("allow");
  });
});

describe("policy reload", () => {
  const allowRead = `@id("read") permit(principal, ${REQUEST_CREDENTIAL}, resource);`;

  it("keeps the previous set and its hash when the new files are broken", () => {
    const { engine, dir, log } = engineWith({ "main.cedar": allowRead });
    const before = engine.info();

    dir.write({ "main.cedar": "permit(principal, action, resource) when { context.ttl > 1 };" }, dir.dir);
    const result = engine.reload();

    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/main\.cedar/);
    expect(engine.info()).toEqual(before);
    expect(engine.authorize(credentialRequest(agent))).toMatchObject({
      effect: "allow",
      policySetHash: before.hash,
    });
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: "policy reload refused; the previous policy set stays active",
      }),
    );
  });

  it("switches to a good new set and its hash", () => {
    const { engine, dir } = engineWith({ "main.cedar": allowRead });
    const before = engine.info().hash;

    dir.write(
      { "main.cedar": `@id("read") permit(principal, ${REQUEST_CREDENTIAL}, resource) when { false };` },
      dir.dir,
    );
    const result = engine.reload();

    expect(result).toEqual({ ok: true, hash: engine.info().hash });
    expect(engine.info().hash).not.toBe(before);
    expect(engine.authorize(credentialRequest(agent))).toMatchObject({
      effect: "deny",
      policySetHash: engine.info().hash,
    });
  });

  it("keeps the hash when the files did not change", () => {
    const { engine } = engineWith({ "main.cedar": allowRead });
    const before = engine.info().hash;
    expect(engine.reload()).toEqual({ ok: true, hash: before });
  });
});
