import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../src/config/load-config.js";

const minimal = {
  server: { port: 8080, audience: "credbroker", public_url: "http://127.0.0.1:8080" },
  redis: { url: "redis://127.0.0.1:6379/0", key_prefix: "cb" },
};

function issuesOf(config: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...minimal, ...config }, "test");
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("resource_servers", () => {
  it("accepts a client with a secret env var, jwks_uri or inline jwks, and defaults to none", () => {
    expect(parseConfig(minimal, "test").resource_servers).toEqual([]);
    const config = parseConfig(
      {
        ...minimal,
        resource_servers: [
          {
            client_id: "tickets-api",
            secret_env: "TICKETS_RS_SECRET",
            audiences: ["https://tickets.internal"],
          },
          {
            client_id: "reports",
            jwks_uri: "https://reports.example/jwks.json",
            audiences: ["https://reports"],
          },
          { client_id: "inline", jwks: { keys: [{ kty: "EC" }] }, audiences: ["https://inline"] },
        ],
      },
      "test",
    );
    expect(config.resource_servers.map((rs) => rs.client_id)).toEqual(["tickets-api", "reports", "inline"]);
  });

  it("refuses a client with no way to authenticate, two key sources, no audience or a plain-http jwks_uri", () => {
    const cases = [
      { client_id: "a", audiences: ["x"] },
      { client_id: "b", jwks_uri: "https://k.example/jwks", jwks: { keys: [{}] }, audiences: ["x"] },
      { client_id: "c", secret_env: "C_SECRET", audiences: [] },
      { client_id: "d", jwks_uri: "http://k.example/jwks", audiences: ["x"] },
      { client_id: "e", secret: "inline-secrets-are-not-accepted", audiences: ["x"] },
    ];
    for (const rs of cases) expect(issuesOf({ resource_servers: [rs] }).length).toBeGreaterThan(0);
  });

  it("refuses duplicate client ids and an issuer named rs, the resource servers' principal prefix", () => {
    const twice = { client_id: "a", secret_env: "A_SECRET", audiences: ["x"] };
    expect(issuesOf({ resource_servers: [twice, twice] }).join("\n")).toMatch(/unique/);
    const rsIssuer = { name: "rs", kind: "oidc", issuer: "https://issuer.example" };
    expect(issuesOf({ issuers: [rsIssuer] }).join("\n")).toMatch(/reserved/);
  });
});
