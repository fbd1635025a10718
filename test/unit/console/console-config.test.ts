import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config/load-config.js";

const minimal = {
  server: { audience: "credbroker", public_url: "https://broker.example.com" },
  redis: { url: "redis://127.0.0.1:6379" },
};
const oidc = { name: "corp", issuer: "https://login.example.com", client_id: "credbroker-console" };

describe("the console config", () => {
  it("is absent unless configured, and fills its defaults", () => {
    expect(parseConfig(minimal, "test").console).toBeUndefined();
    expect(parseConfig({ ...minimal, console: { oidc } }, "test").console).toEqual({
      enabled: true,
      oidc: {
        ...oidc,
        client_secret_env: "CREDBROKER_CONSOLE_CLIENT_SECRET",
        scopes: ["openid", "profile", "email"],
        allowed_claims: ["email", "preferred_username", "name"],
        id_token_alg: "RS256",
      },
      session: { idle_timeout_seconds: 900, absolute_timeout_seconds: 28_800 },
      refresh_seconds: 5,
    });
  });

  it("refuses a plain-http IdP off loopback, unknown keys, a client secret in the file and a bad name", () => {
    const bad = [
      { oidc: { ...oidc, issuer: "http://login.example.com" } },
      { oidc, extra: true },
      { oidc: { ...oidc, secret: "s3cret" } },
      { oidc: { ...oidc, name: "Corp Login" } },
      { oidc, session: { idle_timeout_seconds: 5 } },
    ];
    for (const console of bad) expect(() => parseConfig({ ...minimal, console }, "test")).toThrow();
    const loopback = { oidc: { ...oidc, issuer: "http://127.0.0.1:9000/dev/oidc" } };
    expect(parseConfig({ ...minimal, console: loopback }, "test").console?.oidc.issuer).toContain(
      "127.0.0.1",
    );
  });
});
