import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import express from "express";
import type { Page } from "playwright-core";
import { type Browser, chromium } from "playwright-core";
import { expect } from "vitest";
import { DEV_USERS } from "../../src/dev/dev-users.js";
import { createOidcIssuer, type OidcIssuer } from "../../src/dev/oidc-issuer.js";

export const CHROMIUM = "/usr/bin/chromium";
export const CLIENT_ID = "credbroker-console";
const AXE_SOURCE = readFileSync(new URL("../../node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

/** Debian's Chromium, never a downloaded browser; one per test file, shared by its tests. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); .ci/run does`,
    );
  // --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/**
 * Where screenshots go: docs/console/ when CONSOLE_SCREENSHOTS=1 (refreshing the README's images), else a
 * temp dir, so an ordinary test run leaves the checkout untouched. Every run takes them either way.
 */
let shotsDir: string | undefined;
export function screenshotPath(name: string): string {
  shotsDir ??=
    process.env.CONSOLE_SCREENSHOTS === "1"
      ? new URL("../../docs/console/", import.meta.url).pathname
      : mkdtempSync(path.join(tmpdir(), "credbroker-console-shots-"));
  return path.join(shotsDir, `${name}.png`);
}

/** A free TCP port on loopback (the broker's public URL must be known before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The dev OIDC issuer with its sign-in page, on a port (an origin) of its own, as a real IdP would be. */
export async function startDevIdp(
  redirectUri: string,
  secret: string,
): Promise<{ issuer: OidcIssuer; close(): Promise<void> }> {
  const port = await freePort();
  const issuer = await createOidcIssuer({
    issuerUrl: `http://127.0.0.1:${port}`,
    login: {
      clients: [{ clientId: CLIENT_ID, clientSecret: secret, redirectUris: [redirectUri] }],
      users: DEV_USERS,
    },
  });
  const app = express();
  app.use(issuer.router());
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(port, "127.0.0.1", () => resolve(s));
  });
  return { issuer, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Runs axe-core in the page (evaluated over CDP, so the page's CSP stays strict) and fails on serious issues. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run(): Promise<{ violations: { id: string; impact: string | null; nodes: unknown[] }[] }> };
      }
    ).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious, `axe on ${what}`).toEqual([]);
}

/** Signs in through the dev issuer's page: the landing link, the Username field, the Sign in button. */
export async function signIn(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.getByRole("link", { name: "Sign in with dev" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${baseUrl}/console/`);
  await expect.poll(() => page.locator("[data-principal]").textContent()).toBe(`dev:${username}`);
}

/** Posts a form from inside the page (same origin, the session cookie attached), as a forged page could. */
export function postFrom(page: Page, path: string, fields: Record<string, string>) {
  return page.evaluate(
    async ({ path, fields }) => {
      const res = await fetch(path, {
        method: "POST",
        body: new URLSearchParams(fields),
        redirect: "manual",
      });
      return { status: res.status, text: await res.text() };
    },
    { path, fields },
  );
}

export async function csrfOf(page: Page): Promise<string> {
  return (await page.locator('form.signout input[name="csrf"]').getAttribute("value")) ?? "";
}
