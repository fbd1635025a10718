import { readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type { AuditPage } from "../../../src/audit/audit-log.js";
import type { VerificationStatus } from "../../../src/audit/audit-verifications.js";
import type { VerifyResult } from "../../../src/audit/audit-verify.js";
import { RESPONSE_COMPONENTS, requestComponents } from "../../../src/http/openapi/openapi-document.js";
import { OPERATIONS } from "../../../src/http/openapi/operations.js";
import type {
  approvalResponse,
  auditPageResponse,
  auditVerificationRunResponse,
  auditVerifyResponse,
  credentialResponse,
  issuedCredentialResponse,
  revocationStatusResponse,
  taskResponse,
  taskSummaryResponse,
} from "../../../src/http/openapi/response-schemas.js";
import type {
  approvalView,
  credentialView,
  issuedView,
  taskSummaryView,
  taskView,
} from "../../../src/http/views.js";
import type { RevocationStatus } from "../../../src/revocation/emergency-revocation.js";

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

describe("the response schemas and the views", () => {
  it("every view's output is assignable to its response schema (checked by tsc)", () => {
    expectTypeOf<ReturnType<typeof taskView>>().toExtend<z.output<typeof taskResponse>>();
    expectTypeOf<ReturnType<typeof credentialView>>().toExtend<z.output<typeof credentialResponse>>();
    expectTypeOf<ReturnType<typeof issuedView>>().toExtend<z.output<typeof issuedCredentialResponse>>();
    // The view's `state` is typed wider than it is (TypeScript does not narrow through `redeemed`); the
    // integration test checks its values.
    expectTypeOf<Omit<ReturnType<typeof approvalView>, "state">>().toExtend<
      Omit<z.output<typeof approvalResponse>, "state">
    >();
    expectTypeOf<RevocationStatus>().toExtend<z.output<typeof revocationStatusResponse>>();
    expectTypeOf<VerifyResult & { scope: "full" | "since_checkpoint" }>().toExtend<
      z.output<typeof auditVerifyResponse>
    >();
    expectTypeOf<ReturnType<typeof taskSummaryView>>().toExtend<z.output<typeof taskSummaryResponse>>();
    expectTypeOf<VerificationStatus>().toExtend<z.output<typeof auditVerificationRunResponse>>();
    expectTypeOf<AuditPage>().toExtend<z.output<typeof auditPageResponse>>();
  });
});
