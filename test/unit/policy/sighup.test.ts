import { afterEach, describe, expect, it } from "vitest";
import { createPolicyEngine } from "../../../src/policy/policy-engine.js";
import { installSighupReload } from "../../../src/policy/sighup.js";
import { agent, captureLogger, credentialRequest, policyDir } from "./policy-fixtures.js";

const ALLOW = `permit(principal, action == Credbroker::Action::"RequestCredential", resource);`;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function setup() {
  const dir = policyDir({ "main.cedar": "// nothing allowed yet\n" });
  cleanups.push(dir.cleanup);
  const log = captureLogger();
  const engine = createPolicyEngine({ files: ["main.cedar"], baseDir: dir.dir, logger: log.logger });
  const uninstall = installSighupReload(engine, log.logger);
  cleanups.push(uninstall);
  return { dir, log, engine, uninstall };
}

describe("SIGHUP", () => {
  it("reloads the policy files", () => {
    const { dir, engine, log } = setup();
    expect(engine.authorize(credentialRequest(agent)).effect).toBe("deny");

    dir.write({ "main.cedar": ALLOW }, dir.dir);
    process.emit("SIGHUP");

    expect(engine.authorize(credentialRequest(agent)).effect).toBe("allow");
    expect(log.lines).toContainEqual(
      expect.objectContaining({ msg: "policies reloaded on SIGHUP", policy_set_hash: engine.info().hash }),
    );
  });

  it("keeps the previous set when the new files are broken, and says so", () => {
    const { dir, engine, log } = setup();
    const before = engine.info().hash;

    dir.write({ "main.cedar": "permit(principal, action, resource" }, dir.dir);
    process.emit("SIGHUP");

    expect(engine.info().hash).toBe(before);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: "policy reload on SIGHUP refused; keeping the previous policy set",
      }),
    );
  });

  it("stops reloading once uninstalled", () => {
    const { dir, engine, uninstall } = setup();
    const listeners = process.listenerCount("SIGHUP");
    uninstall();
    expect(process.listenerCount("SIGHUP")).toBe(listeners - 1);

    dir.write({ "main.cedar": ALLOW }, dir.dir);
    process.emit("SIGHUP");
    expect(engine.authorize(credentialRequest(agent)).effect).toBe("deny");
  });
});
