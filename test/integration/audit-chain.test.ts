import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../src/dev/dev-redis.js";
import { type Harness, startHarness, TEST_KEK, waitFor } from "../support/broker-harness.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";
import { TEST_POLICY } from "../support/test-policy.js";

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

async function busyBroker(name: string, audit: Record<string, unknown> = {}) {
  const h = await startHarness({
    name,
    config: { audit: { checkpoint_interval_seconds: 0.2, checkpoint_every_events: 5, ...audit } },
  });
  harnesses.push(h);
  const agent = await h.token("summariser");
  for (let i = 0; i < 3; i++) {
    const task = (
      await h.call("POST", "/v1/tasks", { token: agent, body: { intent: `t${i}`, ttl_seconds: 60 } })
    ).body;
    await h.call("POST", `/v1/tasks/${task.task_id}/credentials`, {
      token: agent,
      body: { profile: "tickets-api" },
    });
  }
  return { h, operator: await h.token("operator") };
}

const verify = async (h: Harness, operator: string) =>
  (await h.call("GET", "/v1/audit/verify", { token: operator })).body;

/** Direct access to the chain in Redis, as an attacker with Redis access would have. */
function chain(h: Harness) {
  const redis = new Redis(TEST_REDIS_URL);
  const stream = `${h.prefix}:{audit}:stream`;
  return {
    redis,
    async entries() {
      return (await redis.xrange(stream, "-", "+")).map(([id, fields]) => ({
        id,
        event: JSON.parse(fields[1] ?? "{}"),
      }));
    },
    /** Replaces the whole stream with these events, in this order. */
    async rewrite(events: unknown[]) {
      await redis.del(stream);
      for (const event of events) await redis.xadd(stream, "*", "e", JSON.stringify(event));
    },
    close: () => redis.disconnect(),
  };
}

describe("hash-chained audit", () => {
  it("an untouched chain verifies, with signed checkpoints every N events or T seconds", async () => {
    const { h, operator } = await busyBroker("chain-ok");
    await waitFor(
      async () =>
        (await h.call("GET", "/v1/audit/checkpoints", { token: operator })).body.checkpoints.length > 0,
      5_000,
      "checkpoint",
    );
    const result = await verify(h, operator);
    expect(result, JSON.stringify(result)).toMatchObject({ valid: true });
    expect(result.events).toBeGreaterThanOrEqual(12);
    expect(result.checkpoints).toBeGreaterThan(0);
    const { checkpoints } = (await h.call("GET", "/v1/audit/checkpoints", { token: operator })).body;
    const jwks = (await h.call("GET", "/.well-known/jwks.json")).body.keys.map((k: { kid: string }) => k.kid);
    expect(jwks).toContain(checkpoints[0].kid);
    expect((await h.call("GET", "/v1/audit/verify", { token: await h.token("summariser") })).status).toBe(
      403,
    );
  });

  it("verification stays valid while events are being appended", async () => {
    const { h, operator } = await busyBroker("chain-live");
    const agent = await h.token("summariser");
    const writes = Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        h.call("POST", "/v1/tasks", { token: agent, body: { intent: `live ${i}`, ttl_seconds: 60 } }),
      ),
    );
    const results = await Promise.all([verify(h, operator), verify(h, operator), verify(h, operator)]);
    await writes;
    for (const result of results) expect(result, JSON.stringify(result)).toMatchObject({ valid: true });
  });

  it("an event edited in Redis is named", async () => {
    const { h, operator } = await busyBroker("chain-edit");
    const c = chain(h);
    try {
      const entries = await c.entries();
      const victim = entries[4]!;
      const events = entries.map((e) => e.event);
      events[4] = { ...victim.event, actor: "ci:someone-else" };
      await c.rewrite(events);
      expect(await verify(h, operator)).toMatchObject({
        valid: false,
        first_invalid: { seq: victim.event.seq, reason: expect.stringContaining("edited") },
      });
    } finally {
      c.close();
    }
  });

  it("a deleted event is named by the gap it leaves", async () => {
    const { h, operator } = await busyBroker("chain-delete");
    const c = chain(h);
    try {
      const entries = await c.entries();
      await c.redis.xdel(`${h.prefix}:{audit}:stream`, entries[3]!.id);
      const result = await verify(h, operator);
      expect(result.valid).toBe(false);
      expect(result.first_invalid.seq).toBe(entries[4]!.event.seq);
      expect(result.first_invalid.reason).toContain(`expected seq ${entries[3]!.event.seq}`);
    } finally {
      c.close();
    }
  });

  it("reordered events are detected", async () => {
    const { h, operator } = await busyBroker("chain-reorder");
    const c = chain(h);
    try {
      const events = (await c.entries()).map((e) => e.event);
      [events[5], events[6]] = [events[6], events[5]];
      await c.rewrite(events);
      const result = await verify(h, operator);
      expect(result.valid).toBe(false);
      expect(result.first_invalid.seq).toBe(events[5].seq);
    } finally {
      c.close();
    }
  });

  it("an edit that re-chains every later hash is still caught by a signed checkpoint", async () => {
    const { h, operator } = await busyBroker("chain-rechain");
    await waitFor(
      async () =>
        (await h.call("GET", "/v1/audit/checkpoints", { token: operator })).body.checkpoints.length > 0,
      5_000,
      "checkpoint",
    );
    const { hashEvent } = await import("../../src/audit/audit-chain.js");
    const c = chain(h);
    try {
      const events = (await c.entries()).map((e) => e.event);
      let prev = "0".repeat(64);
      const forged = events.map((event, i) => {
        const changed = { ...event, actor: i === 1 ? "ci:forger" : event.actor, prev_hash: prev };
        const { hash: _old, ...unhashed } = changed;
        const hash = hashEvent(unhashed);
        prev = hash;
        return { ...unhashed, hash };
      });
      await c.rewrite(forged);
      await c.redis.set(`${h.prefix}:{audit}:head`, `${forged.at(-1)!.seq} ${forged.at(-1)!.hash}`);
      const result = await verify(h, operator);
      expect(result.valid).toBe(false);
      expect(result.first_invalid.reason).toContain("checkpoint");
    } finally {
      c.close();
    }
  });

  it("truncating the newest events and a forged checkpoint are both detected", async () => {
    const { h, operator } = await busyBroker("chain-truncate");
    const c = chain(h);
    try {
      const entries = await c.entries();
      await c.redis.xdel(`${h.prefix}:{audit}:stream`, entries.at(-1)!.id);
      // Reading the verification is itself audited, so the event after the removed one reveals the gap.
      const truncated = await verify(h, operator);
      expect(truncated.valid).toBe(false);
      expect(truncated.first_invalid.reason).toContain(`expected seq ${entries.at(-1)!.event.seq}`);

      await waitFor(
        async () => (await c.redis.zcard(`${h.prefix}:{audit}:checkpoints`)) > 0,
        5_000,
        "checkpoint",
      );
      const [raw] = await c.redis.zrange(`${h.prefix}:{audit}:checkpoints`, "0", "0");
      const checkpoint = JSON.parse(raw!);
      await c.redis.zrem(`${h.prefix}:{audit}:checkpoints`, raw!);
      await c.redis.zadd(
        `${h.prefix}:{audit}:checkpoints`,
        checkpoint.seq,
        JSON.stringify({ ...checkpoint, hash: "f".repeat(64) }),
      );
      const forged = await verify(h, operator);
      expect(forged.first_invalid.reason).toContain("signature");
    } finally {
      c.close();
    }
  });

  it("retention trims old events but keeps a checkpoint at the trim point, so the rest still verifies", async () => {
    const { h, operator } = await busyBroker("chain-retention", { retention_days: 0.5 / 86_400 });
    const before = await verify(h, operator);
    expect(before.first_seq).toBe(1);
    const trimmed = await waitFor(
      async () => {
        const result = await verify(h, operator);
        return result.valid && result.first_seq > 1 ? result : null;
      },
      8_000,
      "trim",
    );
    expect(trimmed.valid).toBe(true);
    const { anchor } = (await h.call("GET", "/v1/audit/checkpoints", { token: operator })).body;
    expect(anchor.seq).toBe(trimmed.first_seq - 1);
  });
});

describe("verification of a long chain", () => {
  /** A broker whose chain counts as long from its first event: GET verifies since the newest checkpoint. */
  const longChain = (name: string) => busyBroker(name, { verify_full_up_to_events: 0 });
  const checkpointed = (h: Harness, operator: string) =>
    waitFor(
      async () => {
        const { checkpoints } = (await h.call("GET", "/v1/audit/checkpoints", { token: operator })).body;
        return checkpoints.length > 1 ? checkpoints : null;
      },
      5_000,
      "two checkpoints",
    );

  it("GET checks only from the newest checkpoint; the full walk is a job that still names an old edit", async () => {
    const { h, operator } = await longChain("chain-since");
    const checkpoints = await checkpointed(h, operator);
    const c = chain(h);
    try {
      const entries = await c.entries();
      const newest = (await h.call("GET", "/v1/audit/checkpoints", { token: operator })).body.checkpoints.at(
        -1,
      );
      const since = await verify(h, operator);
      expect(since, JSON.stringify(since)).toMatchObject({
        valid: true,
        scope: "since_checkpoint",
        checkpoints: 1,
        first_seq: newest.seq,
      });
      expect(since.events).toBeLessThan(entries.length);

      // An edit before the newest checkpoint is outside that window, but the full walk names it.
      const events = entries.map((e) => e.event);
      const victim = events[1];
      events[1] = { ...victim, actor: "ci:someone-else" };
      await c.rewrite(events);
      expect(newest.seq).toBeGreaterThan(victim.seq);
      expect(checkpoints.length).toBeGreaterThan(1);
      const started = await h.call("POST", "/v1/audit/verifications", { token: operator, body: {} });
      expect(started.status, started.text).toBe(202);
      expect(started.body).toMatchObject({ state: "running", actor: "ci:operator", result: null });
      const done = await waitFor(
        async () => {
          const run = await h.call("GET", `/v1/audit/verifications/${started.body.verification_id}`, {
            token: operator,
          });
          return run.body.state === "completed" ? run.body : null;
        },
        10_000,
        "full verification",
      );
      expect(done.result).toMatchObject({
        valid: false,
        first_invalid: { seq: victim.seq, reason: expect.stringContaining("edited") },
      });
      expect(done.finished_at).toEqual(expect.any(String));
      expect(
        (await h.call("GET", "/v1/audit/verifications/ver_unknown0000000000", { token: operator })).status,
      ).toBe(404);
      expect(
        (await h.call("POST", "/v1/audit/verifications", { token: await h.token("summariser") })).status,
      ).toBe(403);
    } finally {
      c.close();
    }
  });

  it("an edit after the newest checkpoint, or of its own event, is caught by the bounded check", async () => {
    const { h, operator } = await longChain("chain-since-edit");
    await checkpointed(h, operator);
    const c = chain(h);
    try {
      const newest = (await h.call("GET", "/v1/audit/checkpoints", { token: operator })).body.checkpoints.at(
        -1,
      );
      const entries = await c.entries();
      const events = entries.map((e) => e.event);
      const at = events.findIndex((e) => e.seq === newest.seq);
      events[at] = { ...events[at], reason: "rewritten" };
      await c.rewrite(events);
      expect(await verify(h, operator)).toMatchObject({
        valid: false,
        scope: "since_checkpoint",
        first_invalid: { seq: newest.seq },
      });
    } finally {
      c.close();
    }
  });
});

describe("concurrent appenders", () => {
  it("two broker processes appending at once keep one valid chain", async () => {
    const h = await startHarness({ name: "chain-two" });
    harnesses.push(h);
    const dir = mkdtempSync(path.join(tmpdir(), "credbroker-second-"));
    const port = await freePort();
    writeFileSync(path.join(dir, "policy.cedar"), TEST_POLICY);
    writeFileSync(
      path.join(dir, "credbroker.yaml"),
      JSON.stringify({
        server: { port, audience: "credbroker-test", public_url: "http://127.0.0.1:1" },
        redis: { url: TEST_REDIS_URL, key_prefix: h.prefix },
        issuers: [{ ...h.issuer.issuerConfig(), name: "ci", kind: "oidc" }],
        policy: { files: ["policy.cedar"] },
        profiles: {
          "tickets-api": {
            provider: "signer",
            max_ttl_seconds: 900,
            audience: "https://tickets.internal",
            scopes: [],
          },
        },
      }),
    );
    const second: ChildProcess = spawn(
      process.execPath,
      [
        path.resolve(import.meta.dirname, "../../bin/credbroker.js"),
        "serve",
        "--config",
        path.join(dir, "credbroker.yaml"),
        "--role",
        "api",
      ],
      {
        env: {
          ...process.env,
          CREDBROKER_SIGNER_KEK: TEST_KEK,
          LOG_LEVEL: "error",
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    try {
      const secondUrl = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => (await fetch(`${secondUrl}/healthz`).catch(() => null))?.ok,
        20_000,
        "second broker",
      );
      const agent = await h.token("summariser");
      const open = (base: string, i: number) =>
        fetch(`${base}/v1/tasks`, {
          method: "POST",
          headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
          body: JSON.stringify({ intent: `concurrent ${i}`, ttl_seconds: 60 }),
        }).then((res) => res.status);
      const statuses = await Promise.all(
        Array.from({ length: 60 }, (_, i) => open(i % 2 ? secondUrl : h.baseUrl, i)),
      );
      expect(statuses.every((s) => s === 201)).toBe(true);
      const result = await verify(h, await h.token("operator"));
      expect(result.valid).toBe(true);
      expect(result.events).toBeGreaterThanOrEqual(120);
    } finally {
      second.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
