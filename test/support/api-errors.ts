import { expect } from "vitest";
import type { ApiResponse } from "./broker-harness.js";

/** The `error` member of API.md's error body. */
export interface ApiError {
  code: string;
  message: string;
  // biome-ignore lint/suspicious/noExplicitAny: details differ per error code
  details?: Record<string, any>;
}

/**
 * Asserts an error response of the HTTP contract: the status, JSON, and a body that is exactly
 * `{"error": {"code", "message", "details"?}}`. Returns the `error` member.
 */
export function expectApiError(res: ApiResponse, status: number, code: string): ApiError {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(Object.keys(res.body ?? {})).toEqual(["error"]);
  const error = res.body.error;
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe("string");
  expect(error.message.length).toBeGreaterThan(0);
  for (const key of Object.keys(error)) expect(["code", "message", "details"]).toContain(key);
  if ("details" in error) {
    expect(typeof error.details).toBe("object");
    expect(error.details).not.toBeNull();
    expect(Array.isArray(error.details)).toBe(false);
  }
  return error;
}

/** 400 invalid_request whose `details.issues` is a list of `{path, message}` and names `path`. */
export function expectInvalidRequest(res: ApiResponse, path: string): ApiError {
  const error = expectApiError(res, 400, "invalid_request");
  const issues = error.details?.issues;
  expect(Array.isArray(issues)).toBe(true);
  expect(issues.length).toBeGreaterThan(0);
  for (const issue of issues) {
    expect(Object.keys(issue).sort()).toEqual(["message", "path"]);
    expect(typeof issue.path).toBe("string");
    expect(typeof issue.message).toBe("string");
  }
  expect(issues.map((issue: { path: string }) => issue.path)).toContain(path);
  return error;
}

/** 401 invalid_assertion with `WWW-Authenticate: Bearer error="invalid_token"`. */
export function expectInvalidAssertion(res: ApiResponse): ApiError {
  const error = expectApiError(res, 401, "invalid_assertion");
  expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  return error;
}
