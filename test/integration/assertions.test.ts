import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OidcIssuerSim, startOidcIssuerSim } from "../sims/oidc-issuer.js";
import { expectApiError, expectInvalidAssertion } from "../support/api-errors.js";
import { type ApiResponse, type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";
import { countRecords, dumpPrefix } from "../support/redis-records.js";

/** Policies that only look at the Kubernetes identity: namespace for tasks, service account for credentials. */
const KUBERNETES_POLICY = `
@id("agents-namespace-tasks")
permit (principal is Credbroker::Workload, action in [Credbroker::Action::"OpenTask", Credbroker::Action::"DelegateTask",
  Credbroker::Action::"CloseTask", Credbroker::Action::"ReadTask"], resource is Credbroker::Task)
when { principal.hasTag("namespace") && principal.getTag("namespace") == "agents" };

@id("summariser-credentials")
@max_ttl("300")
permit (principal is Credbroker::Workload, action == Credbroker::Action::"RequestCredential", resource)
when { principal.kind == "kubernetes" && principal.hasTag("service_account") &&
  principal.getTag("service_account") == "summariser" };

@id("ops-namespace-audit")
permit (principal is Credbroker::Workload, action == Credbroker::Action::"ReadAudit", resource)
when { principal.hasTag("namespace") && principal.getTag("namespace") == "ops" };
`;

const AUD = "credbroker-test";
const TASK = { intent: "Summarise Q3 incidents", ttl_seconds: 600 };

let h: Harness;
let sim: OidcIssuerSim;
let foreign: OidcIssuerSim;
let redis: Redis;
let auditor: string;

/** A projected service-account token's claims (`sub` and `kubernetes.io`) for `namespace`/`name`. */
function serviceAccount(
  namespace: string,
  name: string,
): { sub: string; "kubernetes.io": Record<string, unknown> } {
  return {
    sub: `system:serviceaccount:${namespace}:${name}`,
    "kubernetes.io": {
      namespace,
      serviceaccount: { name, uid: `uid-${namespace}-${name}` },
      pod: { name: `${name}-7d9f8`, uid: `pod-${name}` },
    },
  };
}

const saToken = (namespace: string, name: string) =>
  sim.mint({ ...serviceAccount(namespace, name), aud: AUD });

beforeAll(async () => {
  sim = await startOidcIssuerSim();
  foreign = await startOidcIssuerSim();
  h = await startHarness({
    name: "assertions",
    issuer: sim,
    policy: KUBERNETES_POLICY,
    config: {
      issuers: [{ ...sim.issuerConfig(), name: "ci", kind: "kubernetes", jwks_cooldown_seconds: 0 }],
    },
  });
  redis = new Redis(TEST_REDIS_URL);
  auditor = await saToken("ops", "auditor");
});
afterAll(async () => {
  redis?.disconnect();
  await h?.close();
  await foreign?.close();
  await sim?.close();
});

/** Runs a request that must be refused and checks it left no task or credential record behind. */
async function refusedWithoutTrace(send: () => Promise<ApiResponse>): Promise<ApiResponse> {
  const before = await countRecords(redis, h.prefix);
  const res = await send();
  expect(res.status, res.text).toBeGreaterThanOrEqual(400);
  expect(await countRecords(redis, h.prefix)).toEqual(before);
  return res;
}

const openTask = (token: string) => h.call("POST", "/v1/tasks", { token, body: TASK });

describe("Kubernetes service-account tokens and policy tags", () => {
  it("a service account in the agents namespace may open a task; its principal is ci:<sub>", async () => {
    const token = await saToken("agents", "summariser");
    const res = await openTask(token);
    expect(res.status, res.text).toBe(201);
    expect(res.body.owner).toBe("ci:system:serviceaccount:agents:summariser");
    expect(res.body.agent).toBe("ci:system:serviceaccount:agents:summariser");
    const cred = await h.call("POST", `/v1/tasks/${res.body.task_id}/credentials`, {
      token,
      body: { profile: "tickets-api", scopes: ["tickets:read"] },
    });
    expect(cred.status, cred.text).toBe(201);
    expect(cred.body.ttl_seconds).toBe(300);
    const claims = JSON.parse(Buffer.from(cred.body.secret.token.split(".")[1], "base64url").toString());
    expect(claims.sub).toBe("ci:system:serviceaccount:agents:summariser");
  });

  it("a service account in another namespace is 403 policy_denied and opens nothing", async () => {
    const other = await saToken("other", "summariser");
    const res = await refusedWithoutTrace(() => openTask(other));
    const error = expectApiError(res, 403, "policy_denied");
    expect(error.details?.policies).toEqual([]);
  });

  it("the namespace counts only from the kubernetes.io claim, never from a look-alike top-level claim", async () => {
    const spoofed = await sim.mint({
      sub: "system:serviceaccount:other:summariser",
      aud: AUD,
      namespace: "agents",
    });
    expectApiError(await refusedWithoutTrace(() => openTask(spoofed)), 403, "policy_denied");
    const bare = await sim.mint({ sub: "system:serviceaccount:agents:summariser", aud: AUD });
    expectApiError(await refusedWithoutTrace(() => openTask(bare)), 403, "policy_denied");
  });

  it("tags reach RequestCredential too: another service account in the namespace gets no credential", async () => {
    const helper = await saToken("agents", "helper");
    const task = await openTask(helper);
    expect(task.status).toBe(201);
    const res = await refusedWithoutTrace(() =>
      h.call("POST", `/v1/tasks/${task.body.task_id}/credentials`, {
        token: helper,
        body: { profile: "tickets-api" },
      }),
    );
    expectApiError(res, 403, "policy_denied");
    const view = await h.call("GET", `/v1/tasks/${task.body.task_id}`, { token: helper });
    expect(view.body.credentials).toEqual([]);
  });

  it("decisions on Kubernetes principals are audited with the principal id and deciding policy", async () => {
    const token = await saToken("agents", "summariser");
    const task = await openTask(token);
    const other = await saToken("other", "summariser");
    await openTask(other);
    const res = await h.call("GET", "/v1/audit?limit=1000", { token: auditor });
    expect(res.status, res.text).toBe(200);
    const decisions = res.body.events.filter((e: { type: string }) => e.type === "decision");
    expect(decisions).toContainEqual(
      expect.objectContaining({
        actor: "ci:system:serviceaccount:agents:summariser",
        task_id: task.body.task_id,
        decision: expect.objectContaining({
          action: "OpenTask",
          effect: "allow",
          policy_ids: ["agents-namespace-tasks"],
        }),
      }),
    );
    expect(decisions).toContainEqual(
      expect.objectContaining({
        actor: "ci:system:serviceaccount:other:summariser",
        decision: expect.objectContaining({ action: "OpenTask", effect: "deny", policy_ids: [] }),
      }),
    );
    const stored = (await dumpPrefix(redis, h.prefix)).map(({ value }) => value).join("\n");
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(other);
    expect(stored).not.toMatch(/eyJ[A-Za-z0-9_-]*\.eyJ/);
  });
});

describe("rejected Kubernetes assertions", () => {
  it("forged, expired, wrong-audience, wrong-issuer, alg-none and HS256 tokens are 401 and audited without the token", async () => {
    const claims = { ...serviceAccount("agents", "summariser"), aud: AUD };
    const nowSeconds = Math.floor(Date.now() / 1000);
    const valid = await sim.mint(claims);
    const [header, payload, signature] = valid.split(".");
    const tampered = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
    tampered["kubernetes.io"].namespace = "kube-system";
    const cases: [string, string, string][] = [
      [
        "forged under our kid",
        await foreign.mint({ ...claims, iss: sim.issuer }, { header: { kid: sim.currentKid() } }),
        "bad_signature",
      ],
      ["forged under an unknown kid", await foreign.mint({ ...claims, iss: sim.issuer }), "unknown_key"],
      [
        "namespace edited under a valid signature",
        `${header}.${Buffer.from(JSON.stringify(tampered)).toString("base64url")}.${signature}`,
        "bad_signature",
      ],
      ["expired", await sim.mint(claims, { iat: nowSeconds - 1200, expiresInSeconds: 600 }), "expired"],
      [
        "wrong audience",
        await sim.mint({ ...claims, aud: "https://kubernetes.default.svc" }),
        "wrong_audience",
      ],
      ["another cluster's issuer", await foreign.mint(claims), "untrusted_issuer"],
      ["alg none", sim.mintNone(claims), "alg_not_allowed"],
      ["HS256", await sim.mintHs256("secret", claims), "alg_not_allowed"],
    ];
    const seenBefore = (await h.call("GET", "/v1/audit?limit=1000", { token: auditor })).body.events.length;
    for (const [what, token, reason] of cases) {
      const res = await refusedWithoutTrace(() => openTask(token));
      expect(expectInvalidAssertion(res).details?.reason, what).toBe(reason);
    }
    expectInvalidAssertion(await refusedWithoutTrace(() => h.call("POST", "/v1/tasks", { body: TASK })));

    const after = (await h.call("GET", "/v1/audit?limit=1000", { token: auditor })).body.events.slice(
      seenBefore,
    );
    const rejected = after.filter((e: { type: string }) => e.type === "assertion.rejected");
    expect(rejected.map((e: { reason: string }) => e.reason)).toEqual([
      ...cases.map(([, , reason]) => reason),
      "missing",
    ]);
    const text = JSON.stringify(rejected);
    for (const [, token] of cases) expect(text).not.toContain(token);
    expect(text).not.toMatch(/eyJ/);
  });

  it("a token signed with a key the cluster has rotated out is refused once the cached keys expire", async () => {
    const own = await startOidcIssuerSim();
    const broker = await startHarness({
      name: "assertions-rotation",
      issuer: own,
      policy: KUBERNETES_POLICY,
      config: {
        issuers: [
          {
            ...own.issuerConfig(),
            name: "ci",
            kind: "kubernetes",
            jwks_cache_seconds: 1,
            jwks_cooldown_seconds: 0,
          },
        ],
      },
    });
    try {
      const old = await own.mint({ ...serviceAccount("agents", "summariser"), aud: AUD });
      const task = await broker.call("POST", "/v1/tasks", { token: old, body: TASK });
      expect(task.status).toBe(201);
      const oldKid = own.currentKid();
      await own.rotate();
      own.removeKey(oldKid);
      const refused = await waitFor(
        async () => {
          const res = await broker.call("GET", `/v1/tasks/${task.body.task_id}`, { token: old });
          return res.status === 401 ? res : null;
        },
        5_000,
        "the rotated-out key to stop working",
      );
      expect(expectInvalidAssertion(refused).details?.reason).toBe("unknown_key");
      const fresh = await own.mint({ ...serviceAccount("agents", "summariser"), aud: AUD });
      expect((await broker.call("GET", `/v1/tasks/${task.body.task_id}`, { token: fresh })).status).toBe(200);
    } finally {
      await broker.close();
      await own.close();
    }
  });
});
