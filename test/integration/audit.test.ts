import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CredentialProvider } from "../../providers/provider.js";
import { credentialKeys } from "../../src/credentials/credential-keys.js";
import { taskKeys } from "../../src/tasks/task-keys.js";
import { type OidcIssuerSim, startOidcIssuerSim } from "../sims/oidc-issuer.js";
import { expectApiError, expectInvalidAssertion, expectInvalidRequest } from "../support/api-errors.js";
import { type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { delegateTo } from "../support/provider-delegate.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";
import { countRecords, dumpPrefix } from "../support/redis-records.js";

interface AuditEvent {
  seq: number;
  time: string;
  type: string;
  actor: string | null;
  task_id: string | null;
  credential_id: string | null;
  decision: { action: string; effect: string; policy_ids: string[]; policy_set_hash: string } | null;
  reason: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** A JWT anywhere in a text: base64url JSON header, a dot, base64url JSON payload. */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.eyJ/;
const GENESIS = "0".repeat(64);

let h: Harness;
let redis: Redis;
let agent: string;
let operator: string;
let foreign: OidcIssuerSim;
const logLines: string[] = [];
/** Every workload assertion and every issued secret this file handled: none may be stored or logged. */
const secrets = new Set<string>();

const logSink = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(String(chunk));
    done();
  },
});

beforeAll(async () => {
  h = await startHarness({ name: "audit", logDestination: logSink });
  redis = new Redis(TEST_REDIS_URL);
  foreign = await startOidcIssuerSim();
  agent = await tokenFor("summariser");
  operator = await tokenFor("operator");
});
afterAll(async () => {
  redis?.disconnect();
  await foreign?.close();
  await h?.close();
});

async function tokenFor(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  const token = await h.token(sub, claims);
  secrets.add(token);
  return token;
}

async function openTask(token = agent, body: Record<string, unknown> = {}): Promise<{ task_id: string }> {
  const res = await h.call("POST", "/v1/tasks", {
    token,
    body: { intent: "Summarise Q3 incidents", ttl_seconds: 600, ...body },
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function issue(
  taskId: string,
  token = agent,
): Promise<{ credential_id: string; secret: { token: string } }> {
  const res = await h.call("POST", `/v1/tasks/${taskId}/credentials`, {
    token,
    body: { profile: "tickets-api", scopes: ["tickets:read"], reason: "list open incidents" },
  });
  expect(res.status, res.text).toBe(201);
  secrets.add(res.body.secret.token);
  return res.body;
}

/** Waits for the task's record to say closed, reading Redis so the wait itself adds no audit events. */
const waitClosed = (prefix: string, taskId: string) =>
  waitFor(
    async () => (await redis.hget(taskKeys(prefix).task(taskId), "state")) === "closed",
    5_000,
    "task closed",
  );

async function auditPage(query: string): Promise<{ events: AuditEvent[]; next_cursor: string | null }> {
  const res = await h.call("GET", `/v1/audit${query}`, { token: operator });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** The whole stream through the API, page by page. */
async function wholeStream(): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | null = null;
  do {
    const page = await auditPage(`?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    events.push(...page.events);
    cursor = page.next_cursor;
  } while (cursor);
  return events;
}

/** RFC 8785 canonical JSON, enough for audit events (strings, integers, booleans, null, arrays, objects). */
function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`).join(",")}}`;
}

describe("audit trail", () => {
  it("a task's journey is recorded in order: decisions, open, issue, close, revoke, closed", async () => {
    const task = await openTask();
    const cred = await issue(task.task_id);
    expect((await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent })).status).toBe(202);
    await waitClosed(h.prefix, task.task_id);

    const { events } = await auditPage(`?task_id=${task.task_id}`);
    expect(events.map((e) => (e.decision ? `decision:${e.decision.action}` : e.type))).toEqual([
      "decision:OpenTask",
      "task.opened",
      "decision:RequestCredential",
      "credential.issued",
      "decision:CloseTask",
      "task.closing",
      "credential.revoking",
      "credential.revoked",
      "task.closed",
      "decision:ReadAudit",
    ]);
    const [openDecision, opened, issueDecision, issued, , closing, revoking, revoked, closed] = events;
    const policySetHash = openDecision?.decision?.policy_set_hash;
    expect(policySetHash).toMatch(/^[0-9a-f]{16,}$/);
    expect(openDecision).toMatchObject({
      type: "decision",
      actor: "ci:summariser",
      task_id: task.task_id,
      decision: {
        action: "OpenTask",
        effect: "allow",
        policy_ids: ["ci-tasks"],
        policy_set_hash: policySetHash,
      },
    });
    expect(opened).toMatchObject({ type: "task.opened", actor: "ci:summariser", task_id: task.task_id });
    expect(issueDecision).toMatchObject({
      actor: "ci:summariser",
      decision: {
        action: "RequestCredential",
        effect: "allow",
        policy_ids: ["ci-tickets"],
        policy_set_hash: policySetHash,
      },
    });
    expect(issued).toMatchObject({
      type: "credential.issued",
      actor: "ci:summariser",
      credential_id: cred.credential_id,
      details: {
        profile: "tickets-api",
        provider: "signer",
        scopes: ["tickets:read"],
        reason: "list open incidents",
      },
    });
    for (const event of [closing, revoking, revoked, closed]) expect(event?.task_id).toBe(task.task_id);
    expect(revoking?.credential_id).toBe(cred.credential_id);
    expect(revoked?.credential_id).toBe(cred.credential_id);
    expect(closed?.actor).toMatch(/^(ci:summariser|system:worker)$/);
  });

  it("with several credentials, each is recorded revoking before revoked, and the task closed after all", async () => {
    const task = await openTask();
    const creds = [];
    for (let i = 0; i < 4; i++) creds.push(await issue(task.task_id));
    expect((await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent })).status).toBe(202);
    await waitClosed(h.prefix, task.task_id);
    const { events } = await auditPage(`?task_id=${task.task_id}`);
    const at = (type: string, credentialId: string | null = null) =>
      events.findIndex((e) => e.type === type && (credentialId === null || e.credential_id === credentialId));
    const closing = at("task.closing");
    const closed = at("task.closed");
    expect(closing).toBeGreaterThan(at("credential.issued"));
    expect(events.filter((e) => e.type === "task.closed")).toHaveLength(1);
    for (const cred of creds) {
      const issued = at("credential.issued", cred.credential_id);
      const revoking = at("credential.revoking", cred.credential_id);
      const revoked = at("credential.revoked", cred.credential_id);
      expect(issued).toBeGreaterThanOrEqual(0);
      expect(revoking).toBeGreaterThan(closing);
      expect(revoked).toBeGreaterThan(revoking);
      expect(closed).toBeGreaterThan(revoked);
    }
  });

  it("a denial is recorded as a decision with effect deny and the deciding policy ids", async () => {
    const blocked = await tokenFor("blocked");
    const res = await h.call("POST", "/v1/tasks", { token: blocked, body: { intent: "x", ttl_seconds: 60 } });
    expectApiError(res, 403, "policy_denied");
    const denial = (await wholeStream()).filter((e) => e.actor === "ci:blocked");
    expect(denial).toHaveLength(1);
    expect(denial[0]).toMatchObject({
      type: "decision",
      decision: { action: "OpenTask", effect: "deny", policy_ids: ["no-blocked-agent"] },
    });
    expect(denial[0]?.decision?.policy_set_hash).toMatch(/^[0-9a-f]{16,}$/);
  });

  it("a rejected assertion is recorded as assertion.rejected with a reason and never the token", async () => {
    const wrongAudience = await h.issuer.mint({ sub: "intruder", aud: "another-service" });
    const unsigned = h.issuer.mintNone({ sub: "intruder", aud: "credbroker-test" });
    secrets.add(wrongAudience).add(unsigned);
    const before = (await wholeStream()).length;
    expectInvalidAssertion(
      await h.call("POST", "/v1/tasks", { token: wrongAudience, body: { intent: "x", ttl_seconds: 60 } }),
    );
    expectInvalidAssertion(await h.call("GET", "/v1/audit", { token: unsigned }));
    expectInvalidAssertion(await h.call("GET", "/v1/audit"));

    const rejected = (await wholeStream()).slice(before).filter((e) => e.type === "assertion.rejected");
    expect(rejected.map((e) => e.reason)).toEqual(["wrong_audience", "alg_not_allowed", "missing"]);
    for (const event of rejected) {
      expect(event.actor).toBeNull();
      const text = JSON.stringify(event);
      expect(text).not.toContain(wrongAudience);
      expect(text).not.toContain(unsigned);
      expect(text).not.toContain("intruder");
      expect(text).not.toMatch(/eyJ/);
    }
  });

  it("GET /v1/audit?task_id= returns only that task's events", async () => {
    const first = await openTask();
    const second = await openTask();
    await issue(second.task_id);
    const { events } = await auditPage(`?task_id=${first.task_id}`);
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const event of events) expect(event.task_id).toBe(first.task_id);
    expect(events.map((e) => e.type)).toContain("task.opened");
    expect((await auditPage(`?task_id=${second.task_id}`)).events.map((e) => e.type)).toContain(
      "credential.issued",
    );
    expect(
      (await auditPage("?task_id=tsk_doesnotexist00000000")).events.filter((e) => e.type !== "decision"),
    ).toEqual([]);
  });

  it("paging with limit and cursor walks the stream without gaps or repeats", async () => {
    await issue((await openTask()).task_id);
    const pages: AuditEvent[][] = [];
    let cursor: string | null = null;
    do {
      const page = await auditPage(`?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(page.events.length).toBeLessThanOrEqual(3);
      pages.push(page.events);
      cursor = page.next_cursor;
    } while (cursor && pages.length < 500);
    expect(cursor).toBeNull();
    const paged = pages.flat();
    expect(pages.length).toBeGreaterThan(3);
    expect(paged.map((e) => e.seq)).toEqual(paged.map((_, i) => i + 1));
    const whole = await wholeStream();
    expect(whole.slice(0, paged.length)).toEqual(paged);

    const task = await openTask();
    await issue(task.task_id);
    const taskPages: AuditEvent[] = [];
    let taskCursor: string | null = null;
    do {
      const page = await auditPage(
        `?task_id=${task.task_id}&limit=2${taskCursor ? `&cursor=${encodeURIComponent(taskCursor)}` : ""}`,
      );
      expect(page.events.length).toBeLessThanOrEqual(2);
      taskPages.push(...page.events);
      taskCursor = page.next_cursor;
    } while (taskCursor && taskPages.length < 100);
    const types = taskPages.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(["decision", "task.opened", "decision", "credential.issued"]);
    expect(new Set(taskPages.map((e) => e.seq)).size).toBe(taskPages.length);
  });

  it("a cursor the listing never returned is 400 invalid_request naming cursor, not a 503", async () => {
    const task = await openTask();
    const overU64 = "18446744073709551616";
    for (const cursor of ["garbage", "12-abc", "-5", "1-2-3", `${overU64}-0`, `1-${overU64}`, "1."]) {
      const res = await h.call("GET", `/v1/audit?cursor=${encodeURIComponent(cursor)}`, { token: operator });
      const error = expectInvalidRequest(res, "cursor");
      expect(error.message).toContain("cursor");
    }
    for (const cursor of ["garbage", "12-0", "-1"]) {
      const res = await h.call("GET", `/v1/audit?task_id=${task.task_id}&cursor=${cursor}`, {
        token: operator,
      });
      expectInvalidRequest(res, "cursor");
    }
    const future = await h.call("GET", "/v1/audit?cursor=99999999999999-0", { token: operator });
    expect(future.status, future.text).toBe(200);
    expect(future.body).toEqual({ events: [], next_cursor: null });
  });

  it("every event carries seq, time, type, actor, task and credential ids and is chained by hash", async () => {
    await issue((await openTask()).task_id);
    const events = await wholeStream();
    expect(events.length).toBeGreaterThan(5);
    let previous: AuditEvent | undefined;
    for (const event of events) {
      for (const field of ["seq", "time", "type", "actor", "task_id", "credential_id", "hash", "prev_hash"]) {
        expect(event, `${field} of event ${event.seq}`).toHaveProperty(field);
      }
      expect(new Date(event.time).toISOString()).toBe(event.time);
      expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(event.seq).toBe((previous?.seq ?? 0) + 1);
      expect(event.prev_hash).toBe(previous?.hash ?? GENESIS);
      const { hash, ...unhashed } = event;
      const recomputed = createHash("sha256")
        .update(event.prev_hash)
        .update(canonical(unhashed))
        .digest("hex");
      expect(recomputed, `hash of event ${event.seq}`).toBe(hash);
      previous = event;
    }
  });

  it("only principals the policy allows ReadAudit may read the audit log", async () => {
    const res = await h.call("GET", "/v1/audit", { token: agent });
    expectApiError(res, 403, "policy_denied");
  });
});

describe("no secrets at rest or in logs", () => {
  it("no issued token, JWT or workload assertion is in the audit stream, any Redis key or the logs", async () => {
    const initiatorToken = await tokenFor("alice@example.com");
    const parent = await openTask(agent, {
      initiator: { subject: "alice@example.com", token: initiatorToken },
    });
    const child = await openTask(agent, {
      parent_task_id: parent.task_id,
      agent: "ci:sub-agent",
      ttl_seconds: 300,
    });
    const subAgent = await tokenFor("sub-agent");
    for (let i = 0; i < 3; i++) await issue(parent.task_id);
    await issue(child.task_id, subAgent);
    const introspected = await h.call("POST", "/v1/introspect", {
      token: subAgent,
      body: { token: [...secrets].at(-1) },
    });
    expect(introspected.body.active).toBe(true);
    const forged = await foreign.mint({ sub: "summariser", aud: "credbroker-test", iss: h.issuer.issuer });
    const hs256 = await h.issuer.mintHs256("secret", { sub: "summariser", aud: "credbroker-test" });
    secrets.add(forged).add(hs256);
    expectInvalidAssertion(
      await h.call("POST", "/v1/tasks", { token: forged, body: { intent: "x", ttl_seconds: 60 } }),
    );
    expectInvalidAssertion(
      await h.call("POST", "/v1/tasks", { token: hs256, body: { intent: "x", ttl_seconds: 60 } }),
    );
    expect((await h.call("POST", `/v1/tasks/${parent.task_id}/close`, { token: agent })).status).toBe(202);
    await waitClosed(h.prefix, parent.task_id);

    const stream = JSON.stringify(await redis.xrange(`${h.prefix}:{audit}:stream`, "-", "+"));
    expect(stream).toContain("credential.issued");
    const keys = await dumpPrefix(redis, h.prefix);
    expect(keys.map((k) => k.type)).toEqual(
      expect.arrayContaining(["hash", "list", "zset", "stream", "string"]),
    );
    const logs = logLines.join("");
    expect(logs).toContain("assertion rejected");

    const places = [["audit stream", stream], ...keys.map(({ key, value }) => [key, value]), ["logs", logs]];
    expect(secrets.size).toBeGreaterThanOrEqual(10);
    // Signed audit checkpoints are JWS over public chain data (seq, hash, time): JWT-shaped but not secret.
    const signedPublicData = (where: string) =>
      where.endsWith(":{audit}:checkpoints") || where.endsWith(":{audit}:anchor");
    for (const [where, text] of places as [string, string][]) {
      if (!signedPublicData(where)) expect(text, where).not.toMatch(JWT_LIKE);
      for (const secret of secrets) {
        const signature = secret.split(".")[2];
        expect(text.includes(secret), `a secret in ${where}`).toBe(false);
        if (signature) expect(text.includes(signature), `a token signature in ${where}`).toBe(false);
      }
    }
  });
});

describe("fail closed when the audit log cannot be written", () => {
  let f: Harness;
  let fAgent: string;
  /** While armed, the provider breaks the audit log right after issuing, and keeps the token it issued. */
  const injection: { armed: boolean; issuedToken: string | null } = { armed: false, issuedToken: null };
  const streamKey = () => `${f.prefix}:{audit}:stream`;
  const headKey = () => `${f.prefix}:{audit}:head`;

  async function breakStream(): Promise<void> {
    await redis.rename(streamKey(), `${streamKey()}:saved`);
    await redis.set(streamKey(), "not a stream");
  }
  async function restoreStream(): Promise<void> {
    await redis.del(streamKey());
    await redis.rename(`${streamKey()}:saved`, streamKey());
  }

  const breakingAfterIssue = (providers: CredentialProvider[]): CredentialProvider[] =>
    providers.map((provider) =>
      delegateTo(provider, {
        async issue(request) {
          const issued = await provider.issue(request);
          if (injection.armed) {
            injection.issuedToken = String(issued.secret.token);
            await breakStream();
          }
          return issued;
        },
      }),
    );

  beforeAll(async () => {
    f = await startHarness({ name: "audit-fail", issuer: h.issuer, decorateProviders: breakingAfterIssue });
    fAgent = await f.token("summariser");
  });
  afterAll(async () => f?.close());

  async function openOn(): Promise<{ task_id: string }> {
    const res = await f.call("POST", "/v1/tasks", { token: fAgent, body: { intent: "x", ttl_seconds: 600 } });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  it("with the audit head corrupted, a credential request is 503 unavailable and nothing is issued", async () => {
    const task = await openOn();
    const head = await redis.get(headKey());
    await redis.set(headKey(), "garbage");
    try {
      const before = await countRecords(redis, f.prefix);
      const res = await f.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
        token: fAgent,
        body: { profile: "tickets-api" },
      });
      expectApiError(res, 503, "unavailable");
      expect(res.text).not.toMatch(/eyJ/);
      expect(await countRecords(redis, f.prefix)).toEqual(before);
    } finally {
      await redis.set(headKey(), head ?? "");
    }
    const view = await f.call("GET", `/v1/tasks/${task.task_id}`, { token: fAgent });
    expect(view.body.credentials).toEqual([]);
  });

  it("with the audit stream unwritable, opening a task is 503 unavailable and leaves no open task", async () => {
    const before = await countRecords(redis, f.prefix);
    await breakStream();
    try {
      const res = await f.call("POST", "/v1/tasks", {
        token: fAgent,
        body: { intent: "x", ttl_seconds: 600 },
      });
      expectApiError(res, 503, "unavailable");
      const after = await countRecords(redis, f.prefix);
      expect(after.openTasks).toBe(before.openTasks);
      expect(after.taskKeys).toBe(before.taskKeys);
    } finally {
      await restoreStream();
    }
  });

  it("when the audit log fails after the provider issued, the answer is 503, the token is withheld and revoked", async () => {
    const task = await openOn();
    injection.armed = true;
    let res: Awaited<ReturnType<Harness["call"]>>;
    try {
      res = await f.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
        token: fAgent,
        body: { profile: "tickets-api" },
      });
    } finally {
      injection.armed = false;
    }
    const issuedToken = injection.issuedToken;
    expect(issuedToken).toMatch(JWT_LIKE);
    try {
      expectApiError(res, 503, "unavailable");
      expect(res.text).not.toContain(issuedToken);
      expect(res.text).not.toMatch(/eyJ/);
      const introspection = await waitFor(
        async () => {
          const answer = await f.call("POST", "/v1/introspect", {
            token: fAgent,
            body: { token: issuedToken },
          });
          return answer.body.active === false ? answer.body : null;
        },
        5_000,
        "the withheld token to be revoked",
      );
      expect(introspection).toEqual({ active: false });
    } finally {
      await restoreStream();
    }
    const view = await f.call("GET", `/v1/tasks/${task.task_id}`, { token: fAgent });
    expect(view.status).toBe(200);
    expect(view.body.credentials).toHaveLength(1);
    expect(["revoking", "revoked"]).toContain(view.body.credentials[0].state);
    expect(await redis.zcard(credentialKeys(f.prefix).active)).toBe(0);
  });
});
