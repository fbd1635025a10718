import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/dev/dev-redis.js";
import { waitFor } from "../support/broker-harness.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../support/redis-keys.js";

/** Two dev brokers in one checkout keep their own issuer keys, and a restart keeps them too. */

const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
const run = promisify(execFile);
const cwd = mkdtempSync(path.join(tmpdir(), "credbroker-devkeys-"));
const prefix = uniquePrefix("devkeys");
const running = new Set<ChildProcess>();

async function startDev(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, "dev", "--port", String(port)], {
    cwd,
    env: { ...process.env, REDIS_URL: TEST_REDIS_URL, CREDBROKER_KEY_PREFIX: prefix, LOG_LEVEL: "error" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  await waitFor(async () => output.includes("dev mode is up"), 30_000, `dev mode on ${port}`);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  running.delete(child);
}

afterAll(async () => {
  for (const child of running) await stop(child);
  await deleteByPrefix(TEST_REDIS_URL, prefix);
  rmSync(cwd, { recursive: true, force: true });
});

const token = async (port: number) =>
  (
    await run(process.execPath, [BIN, "token", "--sub", "summariser", "--port", String(port)], { cwd })
  ).stdout.trim();

const openTask = async (port: number, bearer: string) =>
  (
    await fetch(`http://127.0.0.1:${port}/v1/tasks`, {
      method: "POST",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify({ intent: "keys", ttl_seconds: 60 }),
    })
  ).status;

describe("dev mode issuer keys", () => {
  it("a second dev broker on another port leaves the first one's tokens valid, and a restart keeps them", {
    timeout: 120_000,
  }, async () => {
    const [first, second] = [await freePort(), await freePort()];
    let one = await startDev(first);
    const before = await token(first);
    expect(await openTask(first, before)).toBe(201);
    const two = await startDev(second);
    expect(await openTask(first, before)).toBe(201);
    expect(await openTask(second, await token(second))).toBe(201);
    await stop(one);
    one = await startDev(first);
    expect(await openTask(first, before)).toBe(201);
    await stop(one);
    await stop(two);
  });
});
