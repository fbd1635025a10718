import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, parseConfig } from "../../../src/config/load-config.js";

const minimal = {
  server: { port: 8080, audience: "credbroker", public_url: "http://127.0.0.1:8080" },
  redis: { url: "redis://127.0.0.1:6379/0", key_prefix: "cb" },
};

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  it("accepts the contract keys of the issue and fills defaults", () => {
    const config = parseConfig({
      ...minimal,
      issuers: [
        {
          name: "ci",
          kind: "oidc",
          issuer: "http://127.0.0.1:9000",
          algorithms: ["ES256", "RS256"],
          max_token_age_seconds: 3600,
        },
      ],
      policy: { files: ["policies/*.cedar"] },
      profiles: {
        "tickets-api": {
          provider: "signer",
          max_ttl_seconds: 900,
          audience: "https://tickets.internal",
          scopes: ["tickets:read"],
        },
      },
      limits: { max_task_ttl_seconds: 86400, max_delegation_depth: 4 },
    });
    expect(config.issuers[0]?.replay_guard).toBe(false);
    expect(config.limits.requests_per_minute).toBe(600);
    expect(config.revocation.attempts).toBe(8);
    expect(config.providers.signer.kek_env).toBe("CREDBROKER_SIGNER_KEK");
  });

  it("names the key and the fix for a typo, a wrong type and a missing key", () => {
    const typo = errorOf(() => parseConfig({ ...minimal, limits: { max_task_ttl: 10 } }));
    expect(typo.message).toContain("limits");
    expect(typo.message).toContain("max_task_ttl");
    expect(typo.message).toContain("docs/configuration.md");
    const wrongType = errorOf(() =>
      parseConfig({
        ...minimal,
        profiles: { p: { provider: "signer", max_ttl_seconds: "ten", audience: "a" } },
      }),
    );
    expect(wrongType.issues).toEqual([
      "profiles.p.max_ttl_seconds: Invalid input: expected number, received string",
    ]);
    const missing = errorOf(() => parseConfig({ redis: minimal.redis }));
    expect(missing.issues).toContain(
      "server.audience: Invalid input: expected string, received undefined (this key is required)",
    );
  });

  it("refuses plain-http issuers outside loopback and unknown issuer kinds", () => {
    const insecure = errorOf(() =>
      parseConfig({
        ...minimal,
        issuers: [{ name: "ci", kind: "oidc", issuer: "http://issuer.example.com" }],
      }),
    );
    expect(insecure.issues[0]).toMatch(/^issuers\.0\.issuer: .*https/);
    expect(
      parseConfig({
        ...minimal,
        issuers: [{ name: "k8s", kind: "kubernetes", issuer: "https://k8s.example" }],
      }).issuers,
    ).toHaveLength(1);
    const kind = errorOf(() =>
      parseConfig({ ...minimal, issuers: [{ name: "x", kind: "saml", issuer: "https://x" }] }),
    );
    expect(kind.issues[0]).toContain("issuers.0.kind");
  });

  it("refuses secrets written into the YAML", () => {
    const err = errorOf(() => parseConfig({ ...minimal, providers: { signer: { kek: "c2VjcmV0" } } }));
    expect(err.issues[0]).toContain("providers.signer.kek: secrets never go in the config file");
    expect(err.message).not.toContain("c2VjcmV0");
  });

  it("reads YAML from a file, applies env overrides, and reports unreadable or invalid files", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cfg-"));
    const file = path.join(dir, "credbroker.yaml");
    writeFileSync(
      file,
      "server: { port: 8080, audience: credbroker, public_url: 'http://127.0.0.1:8080' }\nredis: { url: 'redis://127.0.0.1:6379/0' }\n",
    );
    const { config, configDir } = loadConfigFile(file, {
      REDIS_URL: "redis://127.0.0.1:6380/2",
      CREDBROKER_PORT: "9999",
    });
    expect(configDir).toBe(dir);
    expect(config.redis.url).toBe("redis://127.0.0.1:6380/2");
    expect(config.server.port).toBe(9999);
    expect(errorOf(() => loadConfigFile(path.join(dir, "missing.yaml"), {})).message).toContain("ENOENT");
    writeFileSync(file, "server: [unclosed");
    expect(errorOf(() => loadConfigFile(file, {})).message).toContain("not valid YAML");
  });
});
