import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OidcIssuer } from "../../src/dev/oidc-issuer.js";
import { CLIENT_ID, freePort, startDevIdp } from "../browser/console-support.js";
import { type Harness, startHarness } from "../support/broker-harness.js";

/** The console over plain HTTP (no browser): headers, cookies, and the per-principal rate limit. */
const DEV_POLICY = readFileSync(new URL("../../examples/policies/dev.cedar", import.meta.url), "utf8");
const PER_MINUTE = 8;
let h: Harness;
let idp: { issuer: OidcIssuer; close(): Promise<void> };
let base: string;

const cookieOf = (res: Response, name: string): string | undefined =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith(`${name}=`))
    ?.split(";")[0];

/** The code flow by hand: console login → IdP sign-in form → callback, returning the session cookie. */
async function signIn(username: string): Promise<{ cookie: string; setCookie: string }> {
  const login = await fetch(`${base}/console/auth/login`, { redirect: "manual" });
  const loginCookie = cookieOf(login, "cb_console_login") ?? "";
  const authorize = new URL(login.headers.get("location") ?? "");
  const form = new URLSearchParams([...authorize.searchParams.entries(), ["username", username]]);
  const signedIn = await fetch(`${authorize.origin}/authorize`, {
    method: "POST",
    body: form,
    redirect: "manual",
  });
  const callback = await fetch(signedIn.headers.get("location") ?? "", {
    headers: { cookie: loginCookie },
    redirect: "manual",
  });
  expect(callback.status).toBe(200);
  const setCookie = callback.headers.getSetCookie().find((c) => c.startsWith("cb_console=")) ?? "";
  return { cookie: setCookie.split(";")[0] ?? "", setCookie };
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const secret = randomBytes(24).toString("base64url");
  idp = await startDevIdp(`${base}/console/auth/callback`, secret);
  h = await startHarness({
    name: "console-http",
    listenPort: port,
    policy: DEV_POLICY,
    env: { CREDBROKER_CONSOLE_CLIENT_SECRET: secret },
    config: {
      server: { public_url: base },
      issuers: [{ name: "dev", kind: "oidc", issuer: idp.issuer.issuerUrl, algorithms: ["ES256"] }],
      limits: { requests_per_minute: PER_MINUTE },
      console: {
        oidc: { name: "dev", issuer: idp.issuer.issuerUrl, client_id: CLIENT_ID, id_token_alg: "ES256" },
      },
    },
  });
});

afterAll(async () => {
  await h?.close();
  await idp?.close();
});

describe("the console over HTTP", () => {
  it("answers a stranger with the sign-in page under a strict CSP, no inline script, never cached", async () => {
    const res = await fetch(`${base}/console/tasks`);
    expect(res.status).toBe(401);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toContain("/console/auth/login?return_to=%2Fconsole%2Ftasks");
    const script = await fetch(`${base}/console/static/console.js`);
    expect(script.headers.get("content-type")).toContain("javascript");
  });

  it("sets the session cookie HttpOnly and SameSite=Strict (not Secure on a loopback http URL)", async () => {
    const { setCookie } = await signIn("auditor");
    expect(setCookie).toMatch(
      /^cb_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
  });

  it("shares the API's per-principal rate limit: past it, a clear 429 page with Retry-After", async () => {
    const { cookie } = await signIn("approver");
    // Until refused (a minute boundary may reset the window once, so allow two windows' worth).
    let limited: Response | undefined;
    let served = 0;
    for (let i = 0; i < 3 * PER_MINUTE && !limited; i++) {
      const res = await fetch(`${base}/console/approvals`, { headers: { cookie } });
      if (res.status === 429) limited = res;
      else if (res.status === 200) served++;
    }
    if (!limited) throw new Error("never rate limited");
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThanOrEqual(2 * PER_MINUTE);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.text()).toContain("Nothing was changed");
  });
});
