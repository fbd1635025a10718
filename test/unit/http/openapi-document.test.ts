import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RESPONSE_COMPONENTS, requestComponents } from "../../../src/http/openapi/openapi-document.js";
import { OPERATIONS } from "../../../src/http/openapi/operations.js";

const API_DOC = readFileSync(new URL("../../../docs/api.md", import.meta.url), "utf8");

describe("the OpenAPI route table", () => {
  it("names only response components that exist", () => {
    const named = OPERATIONS.flatMap((op) =>
      Object.values(op.responses).flatMap((body) => (body && "component" in body ? [body.component] : [])),
    );
    expect(named.filter((name) => !(name in RESPONSE_COMPONENTS))).toEqual([]);
  });

  it("gives each request component one schema, and no name twice across requests and responses", () => {
    for (const op of OPERATIONS) {
      if (op.body) expect(requestComponents()[op.body.component]).toBe(op.body.schema);
    }
    const clash = Object.keys(requestComponents()).filter((name) => name in RESPONSE_COMPONENTS);
    expect(clash).toEqual([]);
  });

  it("every operation is described in docs/api.md", () => {
    const missing = OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path}`).filter(
      (route) => !API_DOC.includes(`\`${route}`),
    );
    expect(missing).toEqual([]);
  });
});
