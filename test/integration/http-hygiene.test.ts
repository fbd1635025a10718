import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateLimitKeys } from "../../src/http/rate-limit-keys.js";
import { expectApiError, expectInvalidAssertion } from "../support/api-errors.js";
import { type ApiResponse, type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";
import { countRecords } from "../support/redis-records.js";

let h: Harness;
let redis: Redis;
let agent: string;

beforeAll(async () => {
  h = await startHarness({ name: "hygiene" });
  redis = new Redis(TEST_REDIS_URL);
  agent = await h.token("summariser");
});
afterAll(async () => {
  redis?.disconnect();
  await h?.close();
});

const TASK = { intent: "Summarise Q3 incidents", ttl_seconds: 600 };
/** A JWT anywhere in a text: base64url JSON header, a dot, base64url JSON payload. */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.eyJ/;

async function openTask(token = agent): Promise<{ task_id: string }> {
  const res = await h.call("POST", "/v1/tasks", { token, body: TASK });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** The value of one Prometheus sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function expectSecurityHeaders(res: ApiResponse): void {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  expect(res.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
  expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-powered-by")).toBeNull();
}

describe("security headers", () => {
  it("every response carries helmet's headers and no X-Powered-By: success, error and public routes", async () => {
    const task = await openTask();
    expectSecurityHeaders(await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent }));
    expectSecurityHeaders(await h.call("GET", "/v1/tasks/tsk_doesnotexist00000000", { token: agent }));
    expectSecurityHeaders(await h.call("GET", "/v1/tasks/tsk_doesnotexist00000000"));
    expectSecurityHeaders(await h.call("GET", "/healthz"));
    expectSecurityHeaders(await h.call("GET", "/metrics"));
    expectSecurityHeaders(await h.call("GET", "/no-such-route"));
  });

  it("a credential response is marked Cache-Control: no-store", async () => {
    const task = await openTask();
    const res = await h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
      token: agent,
      body: { profile: "tickets-api" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });
});

describe("X-Request-Id", () => {
  it("a sane client request id is echoed, on success and on error", async () => {
    const id = "orchestrator-7f3a:step.12";
    const ok = await h.call("GET", "/healthz", { headers: { "x-request-id": id } });
    expect(ok.headers.get("x-request-id")).toBe(id);
    const denied = await h.call("POST", "/v1/tasks", { body: TASK, headers: { "x-request-id": id } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("x-request-id")).toBe(id);
  });

  it("a missing or unsafe request id is replaced by a generated one, unique per request", async () => {
    const generated = new Set<string>();
    const offered: Record<string, string>[] = [
      {},
      { "x-request-id": "has spaces in it" },
      { "x-request-id": "<script>alert(1)</script>" },
      { "x-request-id": "x".repeat(129) },
      { "x-request-id": "" },
    ];
    for (const headers of offered) {
      const res = await h.call("GET", "/v1/tasks/tsk_doesnotexist00000000", { token: agent, headers });
      const id = res.headers.get("x-request-id") ?? "";
      expect(id).toMatch(/^req_[A-Za-z0-9_-]{16,}$/);
      generated.add(id);
    }
    expect(generated.size).toBe(5);
  });
});

describe("body limit", () => {
  it("bodies over 64 KiB are 413 payload_too_large on every route, JSON or form-encoded", async () => {
    const task = await openTask();
    const before = await countRecords(redis, h.prefix);
    const big = "a".repeat(65 * 1024);
    for (const route of [
      "/v1/tasks",
      `/v1/tasks/${task.task_id}/credentials`,
      `/v1/tasks/${task.task_id}/close`,
    ]) {
      const res = await h.call("POST", route, { token: agent, body: { intent: big } });
      expectApiError(res, 413, "payload_too_large");
    }
    const json = await h.call("POST", "/v1/introspect", { token: agent, body: { token: big } });
    expectApiError(json, 413, "payload_too_large");
    const form = await h.call("POST", "/v1/introspect", {
      token: agent,
      body: `token=${big}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expectApiError(form, 413, "payload_too_large");
    expect(await countRecords(redis, h.prefix)).toEqual(before);
    const view = await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent });
    expect(view.body).toMatchObject({ state: "open", credentials: [] });
  });
});

describe("rate limit", () => {
  it("the 6th call in a minute with a limit of 5 is 429 rate_limited with Retry-After; others are unaffected", async () => {
    const limited = await startHarness({
      name: "hygiene-rl",
      issuer: h.issuer,
      config: { limits: { requests_per_minute: 5 } },
    });
    try {
      // The limit is a fixed one-minute window: a run that straddles a minute boundary proves nothing and
      // is repeated with a fresh principal (at most once more, since a run takes well under a minute).
      for (let run = 0; ; run++) {
        const windowAtStart = Math.floor(Date.now() / 60_000);
        const token = await limited.token(`busy-agent-${run}`);
        const created = await limited.call("POST", "/v1/tasks", { token, body: TASK });
        const calls = [created];
        for (let i = 0; i < 4; i++) {
          calls.push(await limited.call("GET", `/v1/tasks/${created.body.task_id}`, { token }));
        }
        const before = await countRecords(redis, limited.prefix);
        const sixth = await limited.call("POST", "/v1/tasks", { token, body: TASK });
        const after = await countRecords(redis, limited.prefix);
        const other = await limited.token(`quiet-agent-${run}`);
        const otherCall = await limited.call("POST", "/v1/tasks", { token: other, body: TASK });
        if (Math.floor(Date.now() / 60_000) !== windowAtStart && run === 0) continue;

        expect(calls.map((res) => res.status)).toEqual([201, 200, 200, 200, 200]);
        expectApiError(sixth, 429, "rate_limited");
        const retryAfter = Number(sixth.headers.get("retry-after"));
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(after).toEqual(before);
        expect(otherCall.status).toBe(201);
        const stillLimited = await limited.call("GET", `/v1/tasks/${created.body.task_id}`, { token });
        expectApiError(stillLimited, 429, "rate_limited");
        break;
      }
      for (let i = 0; i < 10; i++) expect((await limited.call("GET", "/healthz")).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it("unauthenticated calls are refused before they count against anyone's limit", async () => {
    const counters = async () => (await redis.keys(rateLimitKeys(h.prefix).everyWindow)).sort();
    const before = await counters();
    for (let i = 0; i < 3; i++) {
      expectInvalidAssertion(await h.call("GET", "/v1/tasks/tsk_doesnotexist00000000", { token: "garbage" }));
    }
    expect(await counters()).toEqual(before);
  });
});

describe("health and metrics", () => {
  it("/healthz and /readyz answer 200 without authentication", async () => {
    const health = await h.call("GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: "ok" });
    const ready = await h.call("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: "ready",
      checks: { redis: "ok", queue: "ok", policies: "ok", eviction: "ok" },
    });
    const withBadToken = await h.call("GET", "/readyz", { token: "garbage" });
    expect(withBadToken.status).toBe(200);
  });

  it("/readyz answers 503 and /v1 requests fail closed with 503 when Redis cannot be reached", async () => {
    const broken = await startHarness({ name: "hygiene-ready", issuer: h.issuer });
    try {
      expect((await broken.call("GET", "/readyz")).status).toBe(200);
      const token = await broken.token("summariser");
      broken.broker.redis.disconnect();
      const res = await broken.call("GET", "/readyz");
      expect(res.status).toBe(503);
      expect(res.body.status).toBe("not_ready");
      expect(res.body.checks.redis).toMatch(/^Redis at 127\.0\.0\.1:6379 unreachable/);
      expect(res.body.reason).toContain("redis: Redis at 127.0.0.1:6379 unreachable");
      expect((await broken.call("GET", "/healthz")).status).toBe(200);
      const open = await broken.call("POST", "/v1/tasks", { token, body: { intent: "x", ttl_seconds: 60 } });
      expect(open.status).toBe(503);
      expect(open.body.error.code).toBe("unavailable");
    } finally {
      await broken.close();
    }
  });

  it("/metrics exposes issuance, revocation, queue and revoke_failed series in Prometheus text", async () => {
    const initial = await h.call("GET", "/metrics");
    expect(initial.status).toBe(200);
    expect(initial.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const issuedBefore = sample(initial.text, 'credbroker_credentials_issued_total{provider="signer"}') ?? 0;
    const revokedBefore =
      sample(initial.text, 'credbroker_revocations_total{outcome="revoked",provider="signer"}') ?? 0;
    const durationsBefore =
      sample(initial.text, 'credbroker_issuance_duration_seconds_count{provider="signer"}') ?? 0;

    const task = await openTask();
    const cred = await h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
      token: agent,
      body: { profile: "tickets-api" },
    });
    expect(cred.status).toBe(201);
    const issued = (await h.call("GET", "/metrics")).text;
    expect(sample(issued, 'credbroker_credentials_issued_total{provider="signer"}')).toBe(issuedBefore + 1);
    expect(sample(issued, 'credbroker_issuance_duration_seconds_count{provider="signer"}')).toBe(
      durationsBefore + 1,
    );
    expect(issued).toMatch(
      /^credbroker_issuance_duration_seconds_bucket\{le="\+Inf",provider="signer"\} \d+$/m,
    );
    expect(issued).toMatch(/^credbroker_queue_depth\{state="waiting"\} \d+$/m);
    expect(issued).toMatch(/^credbroker_queue_depth\{state="delayed"\} \d+$/m);
    expect(sample(issued, "credbroker_revoke_failed")).toBe(0);

    expect((await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent })).status).toBe(202);
    await waitFor(
      async () =>
        (await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent })).body.state === "closed",
      5_000,
      "task closed",
    );
    const revoked = (await h.call("GET", "/metrics")).text;
    expect(sample(revoked, 'credbroker_revocations_total{outcome="revoked",provider="signer"}')).toBe(
      revokedBefore + 1,
    );
  });

  it("health and metrics need no authentication and reveal no principal ids or tokens", async () => {
    const task = await openTask();
    const cred = await h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
      token: agent,
      body: { profile: "tickets-api" },
    });
    expect(cred.status).toBe(201);
    await h.call("POST", "/v1/tasks", { token: await h.token("blocked"), body: TASK });
    for (const route of ["/healthz", "/readyz", "/metrics"]) {
      const res = await h.call("GET", route);
      expect(res.status, route).toBe(200);
      expect(res.text, route).not.toContain("ci:");
      expect(res.text, route).not.toContain("summariser");
      expect(res.text, route).not.toContain("eyJ");
      expect(res.text, route).not.toContain(task.task_id);
      expect(res.text, route).not.toMatch(JWT_LIKE);
    }
  });
});

describe("unknown routes", () => {
  it("an unknown route is 404 not_found in the error format, with or without credentials", async () => {
    expectApiError(await h.call("GET", "/no-such-route"), 404, "not_found");
    expectApiError(await h.call("POST", "/v2/tasks", { body: TASK }), 404, "not_found");
    expectApiError(await h.call("GET", "/v1/no-such-route", { token: agent }), 404, "not_found");
    expectApiError(
      await h.call("DELETE", "/v1/tasks/tsk_doesnotexist00000000", { token: agent }),
      404,
      "not_found",
    );
    const task = await openTask();
    expectApiError(
      await h.call("POST", `/v1/tasks/${task.task_id}/explode`, { token: agent }),
      404,
      "not_found",
    );
  });
});
