import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPolicyEngine } from "../../src/policy/policy-engine.js";
import { createLogger } from "../../src/shared/logger.js";
import { type Harness, startHarness, TEST_KEK } from "../support/broker-harness.js";
import { TEST_POLICY } from "../support/test-policy.js";

/** The CLI's first-contact behaviour: version, token from a file or stdin, a port in use, no policies. */

const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
const SLOW = 60_000;

function run(args: string[], input = "", env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: tmpdir(), LOG_LEVEL: "error", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdin.end(input);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness({ name: "clibasics", policy: TEST_POLICY });
  const agent = await h.token("summariser");
  const task = await h.call("POST", "/v1/tasks", { token: agent, body: { intent: "cli", ttl_seconds: 600 } });
  const issued = await h.call("POST", `/v1/tasks/${task.body.task_id}/credentials`, {
    token: agent,
    body: { profile: "tickets-api" },
  });
  token = issued.body.secret.token;
}, 30_000);
afterAll(async () => h?.close());

describe("the credbroker CLI", () => {
  it("--version prints the package's version", { timeout: SLOW }, async () => {
    const { version } = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8"),
    );
    const res = await run(["--version"]);
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe(version);
  });

  it("verify reads the token from --token-file or stdin, keeping it off the command line", {
    timeout: SLOW,
  }, async () => {
    const file = path.join(tmpdir(), `cb-token-${process.pid}`);
    writeFileSync(file, `${token}\n`);
    const jwks = `${h.baseUrl}/.well-known/jwks.json`;
    const fromFile = await run(["verify", "--jwks", jwks, "--token-file", file]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ valid: true });
    const fromStdin = await run(["verify", "--jwks", jwks, "--token-file", "-"], token);
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ valid: true });
    const none = await run(["verify", "--jwks", jwks]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("--token-file");
  });

  it("serve on a port in use says which option moves it", { timeout: SLOW }, async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as { port: number }).port;
    const config = path.join(tmpdir(), `cb-inuse-${process.pid}.yaml`);
    writeFileSync(
      config,
      JSON.stringify({
        server: { port, audience: "credbroker-test", public_url: "http://127.0.0.1:1" },
        redis: { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0", key_prefix: h.prefix },
        issuers: [{ ...h.issuer.issuerConfig(), name: "ci", kind: "oidc" }],
      }),
    );
    try {
      const res = await run(["serve", "--config", config], "", { CREDBROKER_SIGNER_KEK: TEST_KEK });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/the port is in use; change server\.port \d+ \(or CREDBROKER_PORT\)/);
    } finally {
      holder.close();
    }
  });

  it("a config with no policies warns that everything is denied", () => {
    const lines: string[] = [];
    const destination = { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream;
    createPolicyEngine({
      files: [],
      baseDir: tmpdir(),
      logger: createLogger({ level: "warn", destination }),
    });
    expect(lines.join("")).toContain("no policies are loaded: every action is denied");
  });
});
