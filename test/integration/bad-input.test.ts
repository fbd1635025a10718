import { gzipSync } from "node:zlib";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OidcIssuerSim, startOidcIssuerSim } from "../sims/oidc-issuer.js";
import { expectApiError, expectInvalidAssertion, expectInvalidRequest } from "../support/api-errors.js";
import { type ApiResponse, type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";
import { countRecords } from "../support/redis-records.js";

let h: Harness;
let redis: Redis;
let agent: string;
let foreign: OidcIssuerSim;

beforeAll(async () => {
  h = await startHarness({ name: "bad-input" });
  redis = new Redis(TEST_REDIS_URL);
  agent = await h.token("summariser");
  foreign = await startOidcIssuerSim();
});
afterAll(async () => {
  redis?.disconnect();
  await foreign?.close();
  await h?.close();
});

const AUD = "credbroker-test";
const VALID_TASK = { intent: "Summarise Q3 incidents", ttl_seconds: 600 };

const openTask = (body: unknown, token = agent) => h.call("POST", "/v1/tasks", { token, body });
const requestCredential = (taskId: string, body: unknown, token = agent) =>
  h.call("POST", `/v1/tasks/${taskId}/credentials`, { token, body });

async function openedTask(body: Record<string, unknown> = {}): Promise<{ task_id: string }> {
  const res = await openTask({ ...VALID_TASK, ...body });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** Runs a request that must be refused and checks it left no task or credential record behind. */
async function refusedWithoutTrace(send: () => Promise<ApiResponse>): Promise<ApiResponse> {
  const before = await countRecords(redis, h.prefix);
  const res = await send();
  expect(res.status, res.text).toBeGreaterThanOrEqual(400);
  expect(await countRecords(redis, h.prefix)).toEqual(before);
  return res;
}

describe("malformed and unexpected bodies", () => {
  it("malformed JSON is 400 invalid_request naming the body", async () => {
    const res = await refusedWithoutTrace(() => openTask('{"intent": "x", "ttl_seconds": '));
    expectInvalidRequest(res, "(body)");
  });

  it("a JSON body that is not an object is 400 invalid_request", async () => {
    for (const body of ["[]", '"open a task"', "42", "null"]) {
      const res = await refusedWithoutTrace(() => openTask(body));
      expectInvalidRequest(res, "(body)");
    }
  });

  it("unknown body fields are refused, naming them, on task and credential requests", async () => {
    const res = await refusedWithoutTrace(() => openTask({ ...VALID_TASK, ttl: 600, admin: true }));
    const error = expectInvalidRequest(res, "(body)");
    const messages = error.details?.issues.map((issue: { message: string }) => issue.message).join(" ");
    expect(messages).toContain("ttl");
    expect(messages).toContain("admin");

    const nested = await refusedWithoutTrace(() =>
      openTask({ ...VALID_TASK, initiator: { subject: "alice@example.com", verified: true } }),
    );
    expectInvalidRequest(nested, "initiator");

    const task = await openedTask();
    const cred = await refusedWithoutTrace(() =>
      requestCredential(task.task_id, { profile: "tickets-api", audience: "https://evil.example" }),
    );
    expectInvalidRequest(cred, "(body)");
  });

  it("a task without intent is 400 invalid_request with the issue at intent", async () => {
    const res = await refusedWithoutTrace(() => openTask({ ttl_seconds: 600 }));
    expectInvalidRequest(res, "intent");
    const empty = await refusedWithoutTrace(() => openTask({ intent: "", ttl_seconds: 600 }));
    expectInvalidRequest(empty, "intent");
  });

  it("a request without a body is 400 naming the missing fields, not a crash", async () => {
    const none = await refusedWithoutTrace(() => h.call("POST", "/v1/tasks", { token: agent }));
    expectInvalidRequest(none, "intent");
  });
});

/** POSTs raw bytes with exactly these headers (fetch adds no Content-Type to a byte body). */
async function postRaw(route: string, body: Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.baseUrl}${route}`, {
    method: "POST",
    headers: { authorization: `Bearer ${agent}`, ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
}

describe("Content-Type and Content-Encoding", () => {
  const taskJson = Buffer.from(JSON.stringify(VALID_TASK));

  it("a form, text or untyped body on any JSON route is 400 'Content-Type must be application/json'", async () => {
    const task = await openedTask();
    const routes = [
      "/v1/tasks",
      `/v1/tasks/${task.task_id}/close`,
      `/v1/tasks/${task.task_id}/credentials`,
      "/v1/approvals/apr_doesnotexist0000/approve",
      "/v1/admin/revocations",
      "/v1/admin/credentials/crd_doesnotexist0000/resolve",
      "/v1/admin/keys/rotate",
      "/v1/audit/checkpoints",
    ];
    const bodies: [Record<string, string>, Uint8Array][] = [
      [{ "content-type": "application/x-www-form-urlencoded" }, Buffer.from("intent=x&ttl_seconds=600")],
      [{ "content-type": "text/plain" }, taskJson],
      [{}, taskJson],
    ];
    for (const route of routes) {
      for (const [headers, body] of bodies) {
        const res = await refusedWithoutTrace(() => postRaw(route, body, headers));
        const error = expectInvalidRequest(res, "Content-Type");
        expect(error.message, route).toBe("Content-Type must be application/json.");
      }
    }
  });

  it("JSON with a charset parameter is accepted; introspection still takes forms", async () => {
    const res = await postRaw("/v1/tasks", taskJson, { "content-type": "application/json; charset=utf-8" });
    expect(res.status, res.text).toBe(201);
    const form = await postRaw("/v1/introspect", Buffer.from("token=not-a-token"), {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(form.status, form.text).toBe(200);
    expect(form.body).toEqual({ active: false });
  });

  it("a gzip body is read; a corrupt compressed body is 400 about the body, not a 500", async () => {
    const json = { "content-type": "application/json" };
    const ok = await postRaw("/v1/tasks", gzipSync(taskJson), { ...json, "content-encoding": "gzip" });
    expect(ok.status, ok.text).toBe(201);
    for (const encoding of ["gzip", "deflate", "br"]) {
      const res = await refusedWithoutTrace(() =>
        postRaw("/v1/tasks", taskJson, { ...json, "content-encoding": encoding }),
      );
      const error = expectInvalidRequest(res, "(body)");
      expect(error.message).toContain("could not be read");
    }
  });

  it("an unsupported Content-Encoding or charset is 400 naming the header", async () => {
    const json = { "content-type": "application/json" };
    for (const encoding of ["x-unknown", "compress", "gzip, br"]) {
      const res = await refusedWithoutTrace(() =>
        postRaw("/v1/tasks", taskJson, { ...json, "content-encoding": encoding }),
      );
      const error = expectInvalidRequest(res, "Content-Encoding");
      expect(error.message).toBe("Content-Encoding must be identity, gzip, deflate or br.");
    }
    const latin = await refusedWithoutTrace(() =>
      postRaw("/v1/tasks", taskJson, { "content-type": "application/json; charset=klingon" }),
    );
    expectInvalidRequest(latin, "Content-Type");
  });
});

describe("ttl_seconds", () => {
  it("zero, negative, fractional or non-numeric ttl_seconds is 400 listing the issue", async () => {
    for (const ttl of [0, -1, 1.5, "600", null]) {
      const res = await refusedWithoutTrace(() => openTask({ intent: "x", ttl_seconds: ttl }));
      expectInvalidRequest(res, "ttl_seconds");
    }
  });

  it("ttl_seconds above limits.max_task_ttl_seconds is 422 ttl_out_of_range; the limit itself is accepted", async () => {
    const res = await refusedWithoutTrace(() => openTask({ intent: "x", ttl_seconds: 86_401 }));
    const error = expectApiError(res, 422, "ttl_out_of_range");
    expect(error.details?.max_ttl_seconds).toBe(86_400);
    const atLimit = await openTask({ intent: "x", ttl_seconds: 86_400 });
    expect(atLimit.status).toBe(201);
  });

  it("a configured lower limit is enforced the same way", async () => {
    const small = await startHarness({
      name: "bad-input-ttl",
      issuer: h.issuer,
      config: { limits: { max_task_ttl_seconds: 60 } },
    });
    try {
      const token = await small.token("summariser");
      const before = await countRecords(redis, small.prefix);
      const res = await small.call("POST", "/v1/tasks", { token, body: { intent: "x", ttl_seconds: 61 } });
      expectApiError(res, 422, "ttl_out_of_range");
      expect(await countRecords(redis, small.prefix)).toEqual(before);
      const ok = await small.call("POST", "/v1/tasks", { token, body: { intent: "x", ttl_seconds: 60 } });
      expect(ok.status).toBe(201);
    } finally {
      await small.close();
    }
  });

  it("a credential ttl_seconds of zero, negative or fractional is 400 listing the issue", async () => {
    const task = await openedTask();
    for (const ttl of [0, -30, 2.5, "300"]) {
      const res = await refusedWithoutTrace(() =>
        requestCredential(task.task_id, { profile: "tickets-api", ttl_seconds: ttl }),
      );
      expectInvalidRequest(res, "ttl_seconds");
    }
  });
});

describe("body size", () => {
  /** A JSON task body of exactly `bytes` bytes. */
  const bodyOfSize = (bytes: number): string => {
    const shell = JSON.stringify({ ttl_seconds: 600, intent: "" });
    return JSON.stringify({ ttl_seconds: 600, intent: "x".repeat(bytes - shell.length) });
  };

  it("a body over 64 KiB is 413 payload_too_large; 64 KiB exactly is read and validated", async () => {
    const over = bodyOfSize(64 * 1024 + 1);
    expect(Buffer.byteLength(over)).toBe(65_537);
    const res = await refusedWithoutTrace(() => openTask(over));
    expectApiError(res, 413, "payload_too_large");

    const atLimit = bodyOfSize(64 * 1024);
    expect(Buffer.byteLength(atLimit)).toBe(65_536);
    const validated = await refusedWithoutTrace(() => openTask(atLimit));
    expectInvalidRequest(validated, "intent");
  });

  it("a huge credential request body is 413 too", async () => {
    const task = await openedTask();
    const res = await refusedWithoutTrace(() =>
      requestCredential(task.task_id, { profile: "tickets-api", reason: "r".repeat(100_000) }),
    );
    expectApiError(res, 413, "payload_too_large");
  });
});

describe("profiles and scopes", () => {
  it("an unknown profile in a task's profiles is 422 unknown_profile", async () => {
    const res = await refusedWithoutTrace(() =>
      openTask({ ...VALID_TASK, profiles: ["tickets-api", "payroll-db"] }),
    );
    const error = expectApiError(res, 422, "unknown_profile");
    expect(error.details?.profiles).toEqual(["payroll-db"]);
  });

  it("a credential for an unknown profile is 422 unknown_profile", async () => {
    const task = await openedTask();
    const res = await refusedWithoutTrace(() => requestCredential(task.task_id, { profile: "payroll-db" }));
    expectApiError(res, 422, "unknown_profile");
  });

  it("a scope the profile does not allow is 422 scope_not_allowed", async () => {
    const task = await openedTask();
    const res = await refusedWithoutTrace(() =>
      requestCredential(task.task_id, { profile: "tickets-api", scopes: ["tickets:read", "tickets:admin"] }),
    );
    const error = expectApiError(res, 422, "scope_not_allowed");
    expect(error.details?.scopes).toEqual(["tickets:admin"]);
    const noScopes = await refusedWithoutTrace(() =>
      requestCredential(task.task_id, { profile: "reports-api", scopes: ["reports:read"] }),
    );
    expectApiError(noScopes, 422, "scope_not_allowed");
  });

  it("a profile outside the task's profiles is 422 scope_not_allowed", async () => {
    const task = await openedTask({ profiles: ["tickets-api"] });
    const res = await refusedWithoutTrace(() => requestCredential(task.task_id, { profile: "reports-api" }));
    expectApiError(res, 422, "scope_not_allowed");
  });
});

describe("task state and delegation", () => {
  it("a credential under a closed task is 409 task_not_open and records nothing", async () => {
    const task = await openedTask();
    expect((await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent })).status).toBe(202);
    const res = await refusedWithoutTrace(() => requestCredential(task.task_id, { profile: "tickets-api" }));
    expectApiError(res, 409, "task_not_open");
    await waitFor(
      async () =>
        (await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent })).body.state === "closed",
      5_000,
      "task closed",
    );
    const late = await refusedWithoutTrace(() => requestCredential(task.task_id, { profile: "tickets-api" }));
    expectApiError(late, 409, "task_not_open");
    const view = await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent });
    expect(view.body.credentials).toEqual([]);
  });

  it("a child task asking for more than its parent is 422 and is not created", async () => {
    const parent = await openedTask({ profiles: ["tickets-api"], ttl_seconds: 300 });
    const child = (body: Record<string, unknown>) =>
      openTask({ intent: "sub-step", ttl_seconds: 100, parent_task_id: parent.task_id, ...body });

    const moreProfiles = await refusedWithoutTrace(() => child({ profiles: ["tickets-api", "reports-api"] }));
    expect(expectApiError(moreProfiles, 422, "scope_not_allowed").details?.profiles).toEqual(["reports-api"]);
    const longer = await refusedWithoutTrace(() => child({ ttl_seconds: 301 }));
    expectApiError(longer, 422, "ttl_out_of_range");
    const unknown = await refusedWithoutTrace(() => child({ profiles: ["payroll-db"] }));
    expectApiError(unknown, 422, "unknown_profile");

    const view = await h.call("GET", `/v1/tasks/${parent.task_id}`, { token: agent });
    expect(view.body.children).toEqual([]);
  });

  it("a malformed parent_task_id is 400 and an unknown one is 404", async () => {
    const bad = await refusedWithoutTrace(() => openTask({ ...VALID_TASK, parent_task_id: "not-a-task" }));
    expectInvalidRequest(bad, "parent_task_id");
    const missing = await refusedWithoutTrace(() =>
      openTask({ ...VALID_TASK, parent_task_id: "tsk_doesnotexist00000000" }),
    );
    expectApiError(missing, 404, "not_found");
  });
});

describe("workload assertions", () => {
  const claims = { sub: "summariser", aud: AUD };

  /** Tokens that must be refused, with the reason the broker gives for each. */
  async function rejectedTokens(): Promise<[string, string, string][]> {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const valid = await h.token("summariser");
    const [header, , signature] = valid.split(".");
    const payload = JSON.parse(Buffer.from(valid.split(".")[1] ?? "", "base64url").toString());
    const elevated = Buffer.from(JSON.stringify({ ...payload, sub: "operator" })).toString("base64url");
    const publicJwk = JSON.stringify(h.issuer.oidc.jwks().keys[0]);
    return [
      [
        "forged: signed by another key under our kid",
        await foreign.mint({ ...claims, iss: h.issuer.issuer }, { header: { kid: h.issuer.currentKid() } }),
        "bad_signature",
      ],
      [
        "forged: signed by a key our issuer never published",
        await foreign.mint({ ...claims, iss: h.issuer.issuer }),
        "unknown_key",
      ],
      [
        "forged: payload swapped under a valid signature",
        `${header}.${elevated}.${signature}`,
        "bad_signature",
      ],
      ["expired", await h.issuer.mint(claims, { iat: nowSeconds - 1200, expiresInSeconds: 600 }), "expired"],
      ["wrong audience", await h.issuer.mint({ ...claims, aud: "another-service" }), "wrong_audience"],
      ["untrusted issuer", await foreign.mint(claims), "untrusted_issuer"],
      ["alg none", h.issuer.mintNone(claims), "alg_not_allowed"],
      ["HS256 with a guessed secret", await h.issuer.mintHs256("secret", claims), "alg_not_allowed"],
      [
        "HS256 keyed with the issuer's public key",
        await h.issuer.mintHs256(publicJwk, claims),
        "alg_not_allowed",
      ],
      ["not a JWT", "not-a-jwt", "malformed"],
    ];
  }

  it("forged, expired, wrong-audience, wrong-issuer, alg-none and HS256 assertions are 401 invalid_assertion", async () => {
    for (const [what, token, reason] of await rejectedTokens()) {
      const res = await refusedWithoutTrace(() => openTask(VALID_TASK, token));
      const error = expectInvalidAssertion(res);
      expect(error.details?.reason, what).toBe(reason);
    }
  });

  it("a missing or non-bearer Authorization header is 401 invalid_assertion", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "" },
      { authorization: "Bearer" },
      { authorization: "Bearer " },
      { authorization: `Basic ${Buffer.from("summariser:pw").toString("base64")}` },
      { authorization: `Token ${agent}` },
    ];
    for (const headers of attempts) {
      const res = await refusedWithoutTrace(() => h.call("POST", "/v1/tasks", { headers, body: VALID_TASK }));
      expectInvalidAssertion(res);
    }
  });

  it("every /v1 route requires a bearer assertion", async () => {
    const task = await openedTask();
    for (const [method, route] of [
      ["GET", `/v1/tasks/${task.task_id}`],
      ["POST", `/v1/tasks/${task.task_id}/close`],
      ["POST", `/v1/tasks/${task.task_id}/credentials`],
      ["POST", "/v1/introspect"],
      ["GET", "/v1/audit"],
      ["POST", "/v1/admin/revocations"],
    ] as const) {
      const res = await refusedWithoutTrace(() =>
        h.call(method, route, { body: method === "POST" ? { profile: "tickets-api" } : undefined }),
      );
      expectInvalidAssertion(res);
    }
    const view = await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent });
    expect(view.body.state).toBe("open");
  });
});

describe("issuer key removal", () => {
  it("a token replayed after its issuer removed the signing key is refused once the cached keys expire", async () => {
    const sim = await startOidcIssuerSim();
    const broker = await startHarness({
      name: "bad-input-keys",
      issuer: sim,
      config: {
        issuers: [sim.issuerConfig({ name: "ci", jwks_cache_seconds: 1, jwks_cooldown_seconds: 0 })],
      },
    });
    try {
      const old = await broker.token("summariser");
      const task = await broker.call("POST", "/v1/tasks", { token: old, body: VALID_TASK });
      expect(task.status).toBe(201);
      const oldKid = sim.currentKid();
      await sim.rotate();
      sim.removeKey(oldKid);

      const refused = await waitFor(
        async () => {
          const res = await broker.call("GET", `/v1/tasks/${task.body.task_id}`, { token: old });
          return res.status === 401 ? res : null;
        },
        5_000,
        "the removed key to stop working",
      );
      expect(expectInvalidAssertion(refused).details?.reason).toBe("unknown_key");

      const before = await countRecords(redis, broker.prefix);
      const replay = await broker.call("POST", "/v1/tasks", { token: old, body: VALID_TASK });
      expectInvalidAssertion(replay);
      expect(await countRecords(redis, broker.prefix)).toEqual(before);

      const fresh = await broker.token("summariser");
      expect((await broker.call("GET", `/v1/tasks/${task.body.task_id}`, { token: fresh })).status).toBe(200);
    } finally {
      await broker.close();
      await sim.close();
    }
  });
});
