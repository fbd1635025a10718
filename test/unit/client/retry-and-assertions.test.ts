import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  assertionFromEnv,
  assertionFromFile,
  assertionFromFunction,
  readAssertion,
} from "../../../src/client/assertion-source.js";
import { CredbrokerError } from "../../../src/client/errors.js";
import { backoffDelay, failedBeforeSending, parseRetryAfter } from "../../../src/client/retry.js";

const code = async (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (err: unknown) => (err instanceof CredbrokerError ? err.code : String(err)),
  );

describe("client retry helpers", () => {
  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-24T10:00:00Z");
    expect(parseRetryAfter("12", now)).toBe(12_000);
    expect(parseRetryAfter("Tue, 24 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Tue, 24 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("backs off exponentially with jitter, capped", () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };
    for (let i = 0; i < 50; i++) {
      expect(backoffDelay(policy, 1)).toBeGreaterThanOrEqual(50);
      expect(backoffDelay(policy, 1)).toBeLessThanOrEqual(100);
      expect(backoffDelay(policy, 3)).toBeGreaterThanOrEqual(200);
      expect(backoffDelay(policy, 3)).toBeLessThanOrEqual(400);
      expect(backoffDelay(policy, 10)).toBeLessThanOrEqual(1_000);
    }
  });

  it("knows a request that never left (refused, unknown host) from one that may have arrived", () => {
    const fetchError = (cause: unknown) => new TypeError("fetch failed", { cause });
    const withCode = (c: string) => Object.assign(new Error(c), { code: c });
    expect(failedBeforeSending(fetchError(withCode("ECONNREFUSED")))).toBe(true);
    expect(failedBeforeSending(fetchError(withCode("ENOTFOUND")))).toBe(true);
    expect(
      failedBeforeSending(
        fetchError(new AggregateError([withCode("ECONNREFUSED"), withCode("ENETUNREACH")])),
      ),
    ).toBe(true);
    expect(
      failedBeforeSending(fetchError(new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNRESET")]))),
    ).toBe(false);
    expect(failedBeforeSending(fetchError(withCode("ECONNRESET")))).toBe(false);
    expect(failedBeforeSending(fetchError(withCode("UND_ERR_SOCKET")))).toBe(false);
    expect(failedBeforeSending(new Error("anything"))).toBe(false);
  });
});

describe("client assertion sources", () => {
  it("a file is read again on every call, trimmed; a missing or empty one is assertion_unavailable", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "credbroker-assertion-"));
    try {
      const file = path.join(dir, "token");
      const source = assertionFromFile(file);
      writeFileSync(file, "first\n");
      expect(await readAssertion(source)).toBe("first");
      writeFileSync(file, "second");
      expect(await readAssertion(source)).toBe("second");
      writeFileSync(file, "  \n");
      expect(await code(readAssertion(source))).toBe("assertion_unavailable");
      rmSync(file);
      expect(await code(readAssertion(source))).toBe("assertion_unavailable");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an env var is read at each call; a function's failure never echoes a token", async () => {
    const env: Record<string, string | undefined> = {};
    const source = assertionFromEnv("AGENT_TOKEN", env);
    expect(await code(readAssertion(source))).toBe("assertion_unavailable");
    env.AGENT_TOKEN = "from-env";
    expect(await readAssertion(source)).toBe("from-env");

    let calls = 0;
    expect(await readAssertion(assertionFromFunction(async () => `minted-${++calls}`))).toBe("minted-1");
    expect(await readAssertion(assertionFromFunction(async () => `minted-${++calls}`))).toBe("minted-2");
    const failing = assertionFromFunction(() => {
      throw new Error("metadata service down");
    });
    const err = await readAssertion(failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredbrokerError);
    expect(err).toMatchObject({ code: "assertion_unavailable", cause: { message: "metadata service down" } });
  });
});
