import { describe, expect, it } from "vitest";
import { requestHash } from "../../../src/approvals/request-hash.js";

const request = {
  taskId: "tsk_1",
  profile: "db",
  scopes: ["read", "write"],
  ttlSeconds: 300,
  reason: "triage",
};

describe("an approval's request hash", () => {
  it("ignores the order of scopes", () => {
    expect(requestHash({ ...request, scopes: ["write", "read"] })).toBe(requestHash(request));
  });

  it("changes with every part of the request a human approved", () => {
    const base = requestHash(request);
    for (const altered of [
      { ...request, taskId: "tsk_2" },
      { ...request, profile: "db-admin" },
      { ...request, scopes: ["read"] },
      { ...request, ttlSeconds: 301 },
      { ...request, ttlSeconds: null },
      { ...request, reason: "triage!" },
    ]) {
      expect(requestHash(altered)).not.toBe(base);
    }
  });
});
