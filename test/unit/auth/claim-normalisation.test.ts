import { describe, expect, it } from "vitest";
import { normaliseClaims } from "../../../src/auth/claim-normalisation.js";
import { BrokerError } from "../../../src/shared/errors.js";

const registered = { iss: "https://issuer.test", sub: "s", aud: "a", exp: 2, iat: 1, nbf: 1, jti: "j" };

describe("claim normalisation", () => {
  it("gives kubernetes policies the namespace, service account, pod and node of the caller", () => {
    const tags = normaliseClaims("kubernetes", {
      ...registered,
      "kubernetes.io": {
        namespace: "agents",
        serviceaccount: { name: "summariser", uid: "sa-uid" },
        pod: { name: "summariser-7d9", uid: "pod-uid" },
        node: { name: "node-a", uid: "node-uid" },
        warnafter: 1700000000,
      },
    });
    expect(tags).toEqual({
      namespace: "agents",
      service_account: "summariser",
      service_account_uid: "sa-uid",
      pod: "summariser-7d9",
      pod_uid: "pod-uid",
      node: "node-a",
    });
  });

  it("leaves out kubernetes tags the token does not carry", () => {
    const tags = normaliseClaims("kubernetes", {
      ...registered,
      "kubernetes.io": { namespace: "agents", serviceaccount: { name: "summariser" } },
    });
    expect(tags).toEqual({ namespace: "agents", service_account: "summariser" });
    expect(normaliseClaims("kubernetes", registered)).toEqual({});
  });

  it("keeps only the github claims policies match on, as strings", () => {
    const tags = normaliseClaims("github", {
      ...registered,
      repository: "acme/api",
      repository_id: 42,
      repository_owner: "acme",
      repository_owner_id: "7",
      ref: "refs/heads/main",
      ref_type: "branch",
      environment: "prod",
      workflow: "deploy",
      workflow_ref: "acme/api/.github/workflows/deploy.yml@refs/heads/main",
      job_workflow_ref: "acme/shared/.github/workflows/release.yml@refs/tags/v1",
      actor: "octocat",
      actor_id: "1",
      event_name: "push",
      runner_environment: "github-hosted",
      sha: "abc123",
      run_id: "999",
      repository_visibility: "private",
    });
    expect(tags).toMatchObject({
      repository: "acme/api",
      repository_id: "42",
      environment: "prod",
      sha: "abc123",
    });
    expect(Object.keys(tags)).toHaveLength(15);
    expect(tags).not.toHaveProperty("run_id");
  });

  it("coerces gitlab's mixed string/number/boolean claims to strings", () => {
    const tags = normaliseClaims("gitlab", {
      ...registered,
      project_path: "group/project",
      project_id: 20,
      namespace_path: "group",
      namespace_id: "10",
      ref: "main",
      ref_type: "branch",
      ref_protected: true,
      environment: "production",
      user_login: "alice",
      pipeline_source: "push",
      runner_environment: "gitlab-hosted",
      user_email: "alice@example.com",
    });
    expect(tags).toEqual({
      project_path: "group/project",
      project_id: "20",
      namespace_path: "group",
      namespace_id: "10",
      ref: "main",
      ref_type: "branch",
      ref_protected: "true",
      environment: "production",
      user_login: "alice",
      pipeline_source: "push",
      runner_environment: "gitlab-hosted",
    });
  });

  it("splits a SPIFFE ID into trust domain and path", () => {
    const tags = normaliseClaims("spiffe", {
      ...registered,
      sub: "spiffe://prod.example.org/ns/agents/sa/summariser",
    });
    expect(tags).toEqual({ trust_domain: "prod.example.org", path: "/ns/agents/sa/summariser" });
  });

  it.each([
    "system:serviceaccount:agents:summariser",
    "spiffe://example.org",
    "spiffe://example.org/",
    "spiffe://Example.org/workload",
    "spiffe://example.org/a/../b",
    "spiffe://example.org/a?b=c",
    "SPIFFE://example.org/a",
  ])("rejects a spiffe assertion whose subject %s is not a workload SPIFFE ID", (sub) => {
    let thrown: unknown;
    try {
      normaliseClaims("spiffe", { ...registered, sub });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BrokerError);
    expect(thrown).toMatchObject({ code: "invalid_assertion", details: { reason: "invalid_subject" } });
  });

  it("turns generic oidc scalar claims into tags and skips registered and structured ones", () => {
    const tags = normaliseClaims("oidc", {
      ...registered,
      email: "alice@example.com",
      email_verified: true,
      tenant: 12,
      groups: ["admins"],
      address: { country: "NL" },
      nothing: null,
    });
    expect(tags).toEqual({ email: "alice@example.com", email_verified: "true", tenant: "12" });
  });

  it("keeps a claim named __proto__ as plain data", () => {
    const payload: Record<string, unknown> = JSON.parse('{"sub":"s","__proto__":"x","role":"dev"}');
    const tags = normaliseClaims("oidc", payload);
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    expect(tags.role).toBe("dev");
    expect(Object.hasOwn(tags, "__proto__")).toBe(true);
  });
});
