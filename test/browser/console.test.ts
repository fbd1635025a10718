import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OidcIssuer } from "../../src/dev/oidc-issuer.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { newFaults, withFaults } from "../support/faulty-provider.js";
import { createTestClock } from "../support/test-clock.js";
import {
  CLIENT_ID,
  csrfOf,
  expectAccessible,
  freePort,
  launchChromium,
  postFrom,
  screenshotPath,
  signIn,
  startDevIdp,
} from "./console-support.js";

const DEV_POLICY = readFileSync(new URL("../../examples/policies/dev.cedar", import.meta.url), "utf8");
const clock = createTestClock();
const faults = newFaults();
let h: Harness;
let idp: { issuer: OidcIssuer; close(): Promise<void> };
let browser: Browser;
const contexts: BrowserContext[] = [];
let base: string;

const workload = (sub: string) => idp.issuer.mint({ sub, aud: "credbroker-test" });

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  context.setDefaultTimeout(5_000);
  contexts.push(context);
  const page = await context.newPage();
  if (process.env.DEBUG_CONSOLE)
    page.on("response", async (res) => {
      if (res.status() >= 400)
        console.log(res.status(), res.url(), (await res.text()).replace(/<[^>]+>/g, " ").slice(-600));
    });
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) throw new Error(`CSP violation: ${message.text()}`);
  });
  return page;
}

async function openTask(agent: string, intent: string) {
  const res = await h.call("POST", "/v1/tasks", {
    token: await workload(agent),
    body: {
      intent,
      ttl_seconds: 3600,
      initiator: { subject: "alice@example.com" },
      labels: { team: "support" },
    },
  });
  expect(res.status).toBe(201);
  return res.body.task_id as string;
}

async function requestAdmin(agent: string, taskId: string, reason: string) {
  const res = await h.call("POST", `/v1/tasks/${taskId}/credentials`, {
    token: await workload(agent),
    body: { profile: "tickets-admin", scopes: ["tickets:admin"], ttl_seconds: 120, reason },
  });
  expect(res.status).toBe(202);
  return res.body.approval_id as string;
}

const shot = (page: Page, name: string) => page.screenshot({ path: screenshotPath(name), fullPage: true });

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const secret = randomBytes(24).toString("base64url");
  idp = await startDevIdp(`${base}/console/auth/callback`, secret);
  const idpUrl = idp.issuer.issuerUrl;
  h = await startHarness({
    name: "console",
    listenPort: port,
    clock,
    decorateProviders: withFaults(faults),
    policy: DEV_POLICY,
    env: { CREDBROKER_CONSOLE_CLIENT_SECRET: secret },
    config: {
      server: { public_url: base },
      issuers: [
        { name: "dev", kind: "oidc", issuer: idpUrl, algorithms: ["ES256"], jwks_cooldown_seconds: 0 },
      ],
      profiles: {
        "tickets-api": {
          provider: "signer",
          max_ttl_seconds: 900,
          audience: "https://tickets.internal",
          scopes: ["tickets:read", "tickets:write"],
        },
        "tickets-admin": {
          provider: "signer",
          max_ttl_seconds: 300,
          audience: "https://tickets.internal",
          scopes: ["tickets:admin"],
        },
      },
      console: {
        oidc: { name: "dev", issuer: idpUrl, client_id: CLIENT_ID, id_token_alg: "ES256" },
        refresh_seconds: 0.25,
      },
    },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await h?.close();
  await idp?.close();
});

describe("the web console in a real browser", () => {
  let operator: Page;
  let approver: Page;
  let copilotTask: string;
  let approvedToken: string;

  it("signs in through the dev issuer and shows a task opened through the API, with its delegation tree", async () => {
    copilotTask = await openTask("copilot", "Close duplicate tickets");
    const child = await h.call("POST", "/v1/tasks", {
      token: await workload("copilot"),
      body: {
        intent: "Find the duplicates",
        ttl_seconds: 600,
        parent_task_id: copilotTask,
        agent: "dev:finder",
      },
    });
    expect(child.status).toBe(201);
    operator = await newPage();
    await signIn(operator, base, "operator");
    await expectAccessible(operator, "overview");
    await operator.getByRole("link", { name: "Tasks", exact: true }).click();
    await expect.poll(() => operator.locator(`[data-task="${copilotTask}"]`).count()).toBe(1);
    const nested = operator.locator(`[data-task="${copilotTask}"] [data-task="${child.body.task_id}"]`);
    expect(await nested.count()).toBe(1);
    expect(await nested.locator("time[data-countdown]").first().textContent()).toMatch(/^\d+m \d+s$/);
    await shot(operator, "tasks");
    await operator.getByLabel("Agent").fill("dev:someone-else");
    await operator.getByRole("button", { name: "Filter" }).click();
    expect(await operator.locator(`[data-task="${copilotTask}"]`).count()).toBe(0);
    await operator.getByLabel("Agent").fill("dev:copilot");
    await operator.getByLabel("Label (key=value)").fill("team=support");
    await operator.getByRole("button", { name: "Filter" }).click();
    expect(await operator.locator(`[data-task="${copilotTask}"]`).count()).toBe(1);
    await expectAccessible(operator, "tasks");
  });

  it("approves a held request that appears without a reload; the agent receives its credential once", async () => {
    approver = await newPage();
    await signIn(approver, base, "approver");
    await approver.getByRole("link", { name: "Approvals", exact: true }).click();
    const id = await requestAdmin("copilot", copilotTask, "merge INC-41 into INC-42");
    const card = approver.locator(`[data-approval="${id}"]`);
    await card.waitFor({ timeout: 5_000 });
    await expect.poll(() => card.textContent()).toContain("merge INC-41 into INC-42");
    await expectAccessible(approver, "approvals");
    await shot(approver, "approvals");
    await card.getByLabel("Comment").fill("duplicate confirmed");
    await card.getByRole("button", { name: "Approve" }).click();
    await approver
      .getByRole("status")
      .filter({ hasText: `approved ${id}` })
      .waitFor();

    const agent = await workload("copilot");
    const first = await h.call("GET", `/v1/approvals/${id}`, { token: agent });
    expect(first.body).toMatchObject({
      state: "approved",
      decided_by: "dev:approver",
      comment: "duplicate confirmed",
    });
    approvedToken = first.body.credential.secret.token;
    const second = await h.call("GET", `/v1/approvals/${id}`, { token: agent });
    expect(second.body.credential).toBeUndefined();
    expect(second.body.credential_issued).toBe(true);
  });

  it("denies another request", async () => {
    const id = await requestAdmin("copilot", copilotTask, "delete every ticket");
    await approver.goto(`${base}/console/approvals`);
    const card = approver.locator(`[data-approval="${id}"]`);
    // Keyboard only: type the comment, Tab past Approve to Deny, press Enter.
    await card.getByLabel("Comment").focus();
    await approver.keyboard.type("not in scope");
    await approver.keyboard.press("Tab");
    await approver.keyboard.press("Tab");
    expect(
      await approver.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document
            .activeElement.textContent,
      ),
    ).toBe("Deny");
    await approver.keyboard.press("Enter");
    await approver
      .getByRole("status")
      .filter({ hasText: `denied ${id}` })
      .waitFor();
    const view = await h.call("GET", `/v1/approvals/${id}`, { token: await workload("copilot") });
    expect(view.body).toMatchObject({ state: "denied", decided_by: "dev:approver" });
  });

  it("never lets the requester approve its own request, even signed in as an approver", async () => {
    const ownTask = await openTask("operator", "Operator's own chore");
    const id = await requestAdmin("operator", ownTask, "my own request");
    await operator.goto(`${base}/console/approvals`);
    expect(await operator.locator(`[data-approval="${id}"]`).count()).toBe(0);
    const forced = await postFrom(operator, `/console/approvals/${id}/decide`, {
      csrf: await csrfOf(operator),
      decision: "approve",
    });
    expect(forced.status).toBe(403);
    expect(forced.text).toContain("nothing was changed");
    const view = await h.call("GET", `/v1/approvals/${id}`, { token: await workload("operator") });
    expect(view.body.state).toBe("pending");
  });

  it("refuses forged and missing CSRF tokens with a clear page, changing nothing", async () => {
    const id = await requestAdmin("copilot", copilotTask, "csrf probe");
    const attempts: Record<string, string>[] = [
      { csrf: "forged-token", decision: "approve" },
      { decision: "approve" },
    ];
    for (const fields of attempts) {
      const res = await postFrom(approver, `/console/approvals/${id}/decide`, fields);
      expect(res.status).toBe(403);
      expect(res.text).toContain("CSRF check");
    }
    const huge = await postFrom(approver, `/console/approvals/${id}/decide`, {
      csrf: await csrfOf(approver),
      decision: "approve",
      comment: "x".repeat(100_000),
    });
    expect(huge.status).toBe(413);
    expect(huge.text).toContain("nothing was changed");
    const view = await h.call("GET", `/v1/approvals/${id}`, { token: await workload("copilot") });
    expect(view.body.state).toBe("pending");
  });

  it("runs an emergency revocation through the dry run to completion; the API confirms the credentials are dead", async () => {
    await operator.getByRole("link", { name: "Emergency revocation" }).click();
    await operator.getByLabel("Revoke by").selectOption("agent");
    await operator.getByLabel("Value").fill("dev:copilot");
    await operator.getByLabel("Reason").fill("suspected prompt injection");
    await operator.getByRole("button", { name: "Dry run" }).click();
    const count = (await operator.locator("[data-credentials]").textContent()) ?? "";
    expect(Number(count)).toBeGreaterThanOrEqual(1);
    expect(await operator.locator("[data-dry-run]").textContent()).toMatch(
      /Would revoke \d+ credentials in \d+ tasks/,
    );
    await expectAccessible(operator, "revocation dry run");
    await shot(operator, "revocation-dry-run");
    await operator.getByLabel(`Type ${count} to confirm`).fill(count);
    await operator.getByRole("button", { name: "Revoke now" }).click();
    await operator.locator("[data-final]").waitFor({ timeout: 15_000 });
    expect(await operator.locator("[data-state]").textContent()).toBe("completed");
    await shot(operator, "revocation-completed");
    const introspected = await h.call("POST", "/v1/introspect", {
      token: await workload("copilot"),
      body: { token: approvedToken },
    });
    expect(introspected.body.active).toBe(false);
    const task = await h.call("GET", `/v1/tasks/${copilotTask}`, { token: await workload("copilot") });
    expect(task.body.credentials.every((c: { state: string }) => c.state !== "active")).toBe(true);
  });

  it("retries a failed revocation and resolves another by hand, with a reason", async () => {
    const agent = await workload("flaky");
    const taskId = await openTask("flaky", "Read tickets against a flaky upstream");
    const ids: string[] = [];
    for (const reason of ["first read", "second read"]) {
      const res = await h.call("POST", `/v1/tasks/${taskId}/credentials`, {
        token: agent,
        body: { profile: "tickets-api", scopes: ["tickets:read"], ttl_seconds: 300, reason },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.credential_id);
    }
    faults.permanentRevokeFailure = true;
    await h.call("POST", `/v1/tasks/${taskId}/close`, { token: agent, body: { reason: "done" } });
    const states = async () =>
      (await h.call("GET", `/v1/tasks/${taskId}`, { token: agent })).body.credentials.map(
        (c: { credential_id: string; state: string }) => `${c.credential_id}:${c.state}`,
      );
    await waitFor(
      async () => (await states()).every((s: string) => s.endsWith(":revoke_failed")),
      10_000,
      "revoke_failed",
    );
    faults.permanentRevokeFailure = false;

    await operator.goto(`${base}/console/failed`);
    const [retried, resolved] = ids.map((id) => operator.locator(`[data-credential="${id}"]`));
    expect(await retried?.textContent()).toContain("access denied (injected)");
    await expectAccessible(operator, "failed revocations");
    await shot(operator, "failed");
    await retried?.getByRole("button", { name: "Retry" }).click();
    await operator
      .getByRole("status")
      .filter({ hasText: `retried ${ids[0]}` })
      .waitFor();
    await resolved
      ?.getByLabel("Resolved by hand because")
      .fill("revoked in the upstream console, ticket OPS-7");
    await resolved?.getByRole("button", { name: "Resolve" }).click();
    await operator
      .getByRole("status")
      .filter({ hasText: `resolved ${ids[1]}` })
      .waitFor();
    await waitFor(
      async () =>
        (await states()).sort().join(",") === [`${ids[0]}:revoked`, `${ids[1]}:resolved`].sort().join(","),
      10_000,
      "retried and resolved",
    );
  });

  it("reads a task's evidence at an instant, and verifies the audit chain", async () => {
    await operator.goto(`${base}/console/tasks/${copilotTask}`);
    await expectAccessible(operator, "task page");
    await shot(operator, "task");
    const instant = new Date(clock.now() - 1_000).toISOString().slice(0, 19);
    await operator.getByLabel("Valid at (UTC)").fill(instant);
    await operator.getByRole("button", { name: "Open evidence report" }).click();
    await expect.poll(() => operator.getByRole("heading", { name: /^Valid at/ }).count()).toBe(1);
    await shot(operator, "evidence");
    await operator.goto(`${base}/console/audit/verify`);
    await operator.locator('[data-chain="valid"]').waitFor();
    await operator.goto(`${base}/console/audit?task_id=${copilotTask}`);
    await expectAccessible(operator, "audit");
    await shot(operator, "audit");
    await operator.goto(`${base}/console/`);
    expect(await operator.locator("[data-queue]").count()).toBeGreaterThan(0);
    await expectAccessible(operator, "overview with data");
    await shot(operator, "overview");
  });

  it("refuses a tampered state or nonce in the callback with a clear page; nobody is signed in", async () => {
    const page = await newPage();
    // The IdP's redirect back, with its state altered on the way.
    await page.route(`${idp.issuer.issuerUrl}/authorize`, async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      const response = await route.fetch({ maxRedirects: 0 });
      const location = new URL(response.headers().location ?? "");
      location.searchParams.set("state", "tampered");
      return route.fulfill({ status: 303, headers: { location: location.toString() } });
    });
    await page.goto(`${base}/console/auth/login`);
    await page.getByLabel("Username").fill("approver");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "state" }).waitFor();
    expect(await page.getByRole("alert").textContent()).toContain("Nobody was signed in");
    await page.unrouteAll();
    // The nonce the IdP puts into the ID token, altered on the way to the IdP.
    await page.route(`${idp.issuer.issuerUrl}/authorize`, (route) => {
      const form = new URLSearchParams(route.request().postData() ?? "");
      form.set("nonce", "tampered");
      return route.continue({ postData: form.toString() });
    });
    await page.goto(`${base}/console/auth/login`);
    await page.getByLabel("Username").fill("approver");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "nonce" }).waitFor();
    await page.goto(`${base}/console/approvals`);
    await page.getByRole("link", { name: "Sign in with dev" }).waitFor();
    // A callback this browser never started (a link someone sent): refused before the IdP is asked.
    const foreign = await page.goto(`${base}/console/auth/callback?code=abc&state=xyz`);
    expect(foreign?.status()).toBe(400);
    expect(await page.getByRole("alert").textContent()).toContain("no sign-in in progress");
  });

  it("signs out", async () => {
    await approver.goto(`${base}/console/`);
    await approver.getByRole("button", { name: "Sign out" }).click();
    await approver.getByRole("status").filter({ hasText: "You are signed out" }).waitFor();
    await approver.goto(`${base}/console/approvals`);
    await approver.getByRole("link", { name: "Sign in with dev" }).waitFor();
    const audit = await h.call("GET", "/v1/audit?limit=1000", { token: await workload("operator") });
    const sessions = audit.body.events.filter(
      (e: { type: string; actor: string }) => e.type.startsWith("console.") && e.actor === "dev:approver",
    );
    expect(sessions.map((e: { type: string }) => e.type)).toEqual([
      "console.signed_in",
      "console.signed_out",
    ]);
    expect(sessions[1].details).toMatchObject({
      reason: "sign_out",
      session_ref: sessions[0].details.session_ref,
    });
  });

  it("an expired session gets a clear page and its form changes nothing", async () => {
    const id = await requestAdmin("operator", await openTask("operator", "expiry probe"), "expiry probe");
    const page = await newPage();
    await signIn(page, base, "approver");
    const csrf = await csrfOf(page);
    clock.advance(16 * 60_000);
    const res = await postFrom(page, `/console/approvals/${id}/decide`, { csrf, decision: "approve" });
    expect(res.status).toBe(401);
    expect(res.text).toContain("idle");
    expect(res.text).toContain("Nothing was changed");
    const view = await h.call("GET", `/v1/approvals/${id}`, { token: await workload("operator") });
    expect(view.body.state).not.toBe("approved");
  });
});
