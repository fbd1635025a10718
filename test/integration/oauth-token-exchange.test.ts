import { Redis } from "ioredis";
import { decodeJwt } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCredentialStore } from "../../src/credentials/credential-store.js";
import { freePort, type Harness, startHarness, waitFor } from "../support/broker-harness.js";
import { TEST_REDIS_URL } from "../support/redis-keys.js";

/**
 * RFC 8693 token exchange through openid-client's generic grant request: a service that received a
 * task-bound token calls the next one on the same task. Each hop is a credential of the task, narrower or
 * equal, its `act` chain extended with the authenticated actor, and revoked with the task.
 */

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token";
const JWT = "urn:ietf:params:oauth:token-type:jwt";
const TXN_TOKEN = "urn:ietf:params:oauth:token-type:txn_token";
const TICKETS = "https://tickets.internal";
const SEARCH = "https://search.internal";

let h: Harness;
let config: client.Configuration;
let agent: string;
let ticketsService: string;
let searchService: string;

beforeAll(async () => {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  h = await startHarness({
    name: "oauth-exchange",
    listenPort: port,
    config: {
      server: { public_url: publicUrl },
      profiles: {
        "tickets-api": {
          provider: "signer",
          max_ttl_seconds: 900,
          audience: TICKETS,
          scopes: ["tickets:read", "tickets:write"],
        },
        "search-api": {
          provider: "signer",
          max_ttl_seconds: 900,
          audience: SEARCH,
          scopes: ["tickets:read", "search:all"],
        },
      },
    },
  });
  [agent, ticketsService, searchService] = await Promise.all([
    h.token("summariser"),
    h.token("tickets-svc"),
    h.token("search-svc"),
  ]);
  config = await client.discovery(new URL(publicUrl), "agent-runtime", undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
});
afterAll(async () => h?.close());

async function ticketsToken(scope = "tickets:read tickets:write") {
  const task = (
    await h.call("POST", "/v1/tasks", { token: agent, body: { intent: "triage", ttl_seconds: 600 } })
  ).body as { task_id: string; task_token: string };
  const tokens = await client.genericGrantRequest(config, JWT_BEARER, {
    assertion: task.task_token,
    resource: TICKETS,
    scope,
  });
  return { task, token: tokens.access_token };
}

const exchange = (fields: Record<string, string>) => client.genericGrantRequest(config, EXCHANGE, fields);

describe("token exchange (RFC 8693)", () => {
  it("is advertised as a grant type", () => {
    expect(config.serverMetadata().grant_types_supported).toContain(EXCHANGE);
  });

  it("one hop: a narrower token for the next resource, act = the actor, exp within the subject's", async () => {
    const { task, token } = await ticketsToken();
    const hop = await exchange({
      subject_token: token,
      subject_token_type: ACCESS_TOKEN,
      actor_token: ticketsService,
      actor_token_type: JWT,
      resource: SEARCH,
      scope: "tickets:read",
    });
    expect(hop.issued_token_type).toBe(ACCESS_TOKEN);
    const claims = decodeJwt(hop.access_token);
    expect(claims).toMatchObject({
      aud: SEARCH,
      sub: "ci:summariser",
      task_id: task.task_id,
      scope: "tickets:read",
      act: { sub: "ci:tickets-svc" },
    });
    expect(claims.exp!).toBeLessThanOrEqual(decodeJwt(token).exp!);
    const read = await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent });
    expect(read.body.credentials.map((c: { credential_id: string }) => c.credential_id)).toContain(
      claims.jti,
    );
  });

  it("two hops extend the chain, newest actor on top; closing the task revokes every hop", async () => {
    const { task, token } = await ticketsToken();
    const first = await exchange({
      subject_token: token,
      subject_token_type: ACCESS_TOKEN,
      actor_token: ticketsService,
      actor_token_type: JWT,
      audience: SEARCH,
    });
    expect(decodeJwt(first.access_token).scope).toBe("tickets:read"); // the subject's scopes the target offers
    const second = await exchange({
      subject_token: first.access_token,
      subject_token_type: JWT,
      actor_token: searchService,
      actor_token_type: JWT,
      resource: TICKETS,
    });
    expect(decodeJwt(second.access_token).act).toEqual({
      sub: "ci:search-svc",
      act: { sub: "ci:tickets-svc" },
    });
    await h.call("POST", `/v1/tasks/${task.task_id}/close`, { token: agent });
    await waitFor(
      async () =>
        (await h.call("GET", `/v1/tasks/${task.task_id}`, { token: agent })).body.state === "closed",
      10_000,
      "the task closes",
    );
    for (const hopToken of [token, first.access_token, second.access_token]) {
      const answer = await h.call("POST", "/v1/introspect", { token: agent, body: { token: hopToken } });
      expect(answer.body).toEqual({ active: false });
    }
    const after = await exchange({
      subject_token: first.access_token,
      subject_token_type: ACCESS_TOKEN,
      actor_token: searchService,
      actor_token_type: JWT,
      resource: TICKETS,
    }).catch((err: unknown) => err);
    expect((after as client.ResponseBodyError).error).toBe("invalid_grant");
  });

  it("a task token can be the subject; the act chain then starts with the actor", async () => {
    const { task } = await ticketsToken();
    const hop = await exchange({
      subject_token: task.task_token,
      subject_token_type: TXN_TOKEN,
      actor_token: ticketsService,
      actor_token_type: JWT,
      resource: SEARCH,
      scope: "search:all",
    });
    expect(decodeJwt(hop.access_token)).toMatchObject({
      scope: "search:all",
      act: { sub: "ci:tickets-svc" },
    });
  });

  it("refuses wider scopes, a missing actor, a foreign subject and mismatched targets", async () => {
    const { token } = await ticketsToken("tickets:read");
    const base = {
      subject_token: token,
      subject_token_type: ACCESS_TOKEN,
      actor_token: ticketsService,
      actor_token_type: JWT,
      resource: SEARCH,
    };
    const cases: [Record<string, string>, string][] = [
      [{ ...base, scope: "search:all" }, "invalid_scope"],
      [{ ...base, actor_token: "" }, "invalid_request"],
      [{ ...base, actor_token_type: ACCESS_TOKEN }, "invalid_request"],
      [{ ...base, actor_token: "not.a.jwt" }, "invalid_grant"],
      [{ ...base, subject_token: agent }, "invalid_grant"],
      [{ ...base, subject_token_type: "urn:example:other" }, "invalid_request"],
      [{ ...base, audience: TICKETS }, "invalid_target"],
      [{ ...base, resource: "https://nowhere" }, "invalid_target"],
    ];
    for (const [fields, code] of cases) {
      const error = await exchange(fields).catch((err: unknown) => err);
      expect(error, JSON.stringify(fields)).toBeInstanceOf(client.ResponseBodyError);
      expect((error as client.ResponseBodyError).error, JSON.stringify(fields)).toBe(code);
    }
  });

  it("a DPoP-bound subject is exchanged only with a proof of the same key, and stays bound", async () => {
    const task = (
      await h.call("POST", "/v1/tasks", { token: agent, body: { intent: "bound", ttl_seconds: 600 } })
    ).body as { task_token: string };
    const keyPair = await client.randomDPoPKeyPair("ES256");
    const bound = await client.genericGrantRequest(
      config,
      JWT_BEARER,
      { assertion: task.task_token, resource: TICKETS, scope: "tickets:read" },
      { DPoP: client.getDPoPHandle(config, keyPair) },
    );
    const fields = {
      subject_token: bound.access_token,
      subject_token_type: ACCESS_TOKEN,
      actor_token: ticketsService,
      actor_token_type: JWT,
      resource: SEARCH,
    };
    const stolen = await exchange(fields).catch((err: unknown) => err);
    expect((stolen as client.ResponseBodyError).error).toBe("invalid_grant");
    const otherKey = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
    const wrongKey = await client
      .genericGrantRequest(config, EXCHANGE, fields, { DPoP: otherKey })
      .catch((err: unknown) => err);
    expect((wrongKey as client.ResponseBodyError).error).toBe("invalid_grant");
    const ok = await client.genericGrantRequest(config, EXCHANGE, fields, {
      DPoP: client.getDPoPHandle(config, keyPair),
    });
    expect(ok.token_type).toBe("dpop");
    expect(decodeJwt(ok.access_token).cnf).toEqual(decodeJwt(bound.access_token).cnf);
  });

  it("a subject whose revocation failed at the provider is not exchanged, though no deny-list entry exists", async () => {
    const { token } = await ticketsToken("tickets:read");
    const jti = String(decodeJwt(token).jti);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const credentials = createCredentialStore({ redis, keyPrefix: h.prefix, now: () => Date.now() });
      const credential = await credentials.get(jti);
      expect(credential?.state).toBe("active");
      if (credential)
        await credentials.transition(credential, ["active"], "revoke_failed", { last_error: "injected" });
    } finally {
      redis.disconnect();
    }
    const error = await exchange({
      subject_token: token,
      subject_token_type: ACCESS_TOKEN,
      actor_token: ticketsService,
      actor_token_type: JWT,
      resource: SEARCH,
    }).catch((err: unknown) => err);
    expect((error as client.ResponseBodyError).error).toBe("invalid_grant");
  });
});
