import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/dev/dev-redis.js";
import { waitFor } from "../support/broker-harness.js";
import { deleteByPrefix, TEST_REDIS_URL, uniquePrefix } from "../support/redis-keys.js";
import { expectAccessible, launchChromium, screenshotPath, signIn } from "./console-support.js";

const BIN = path.resolve(import.meta.dirname, "../../bin/credbroker.js");
const prefix = uniquePrefix("dev-console");
let child: ChildProcess;
let cwd: string;
let base: string;
let output = "";
let browser: Browser;
let page: Page;

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), "credbroker-dev-console-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [BIN, "dev", "--port", String(port)], {
    cwd,
    env: { ...process.env, REDIS_URL: TEST_REDIS_URL, CREDBROKER_KEY_PREFIX: prefix, LOG_LEVEL: "error" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  await waitFor(async () => output.includes("dev mode is up"), 20_000, "dev mode banner");
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.setDefaultTimeout(5_000);
}, 30_000);

afterAll(async () => {
  await browser?.close();
  child?.kill("SIGTERM");
  await new Promise((resolve) => child?.once("exit", resolve));
  await deleteByPrefix(TEST_REDIS_URL, prefix);
  rmSync(cwd, { recursive: true, force: true });
});

describe("the console in dev mode (npm start)", () => {
  it("announces the console and signs in the dev users at the dev issuer's page", async () => {
    expect(output).toContain(`${base}/console/`);
    await page.goto(`${base}/console/`);
    await page.getByRole("link", { name: "Sign in with dev" }).click();
    await expect.poll(() => page.getByLabel("Username").count()).toBe(1);
    for (const user of ["operator", "approver", "auditor"])
      expect(await page.locator("li", { hasText: user }).count()).toBeGreaterThan(0);
    await expectAccessible(page, "dev sign-in page");
    await page.screenshot({ path: screenshotPath("sign-in") });
    await page.getByLabel("Username").fill("nobody");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "No dev user" }).waitFor();
  });

  it("the auditor reads the audit log but may not start an emergency revocation", async () => {
    await signIn(page, base, "auditor");
    await page.goto(`${base}/console/audit/verify`);
    await page.locator('[data-chain="valid"]').waitFor();
    await page.goto(`${base}/console/revocations`);
    await page.getByRole("alert").filter({ hasText: "does not allow this for dev:auditor" }).waitFor();
    await page.goto(`${base}/console/approvals`);
    await page.locator("[data-empty]").waitFor();
  });
});
