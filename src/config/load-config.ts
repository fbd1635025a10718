import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { ZodError } from "zod";
import { type BrokerConfig, configSchema } from "./config-schema.js";

/** A configuration problem, with every issue naming the key and how to fix it. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`invalid configuration in ${source}:\n${issues.map((issue) => `  - ${issue}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Keys whose values are secrets: refused in the YAML, where they would end up in ConfigMaps and git. */
const SECRET_KEYS = new Set([
  "kek",
  "token",
  "password",
  "secret",
  "secret_id",
  "private_key",
  "secret_access_key",
]);

function findSecretKeys(value: unknown, at: string[] = []): string[] {
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const here = [...at, key];
    const found = SECRET_KEYS.has(key)
      ? [
          `${here.join(".")}: secrets never go in the config file; use an env var or a file (see docs/configuration.md)`,
        ]
      : [];
    return [...found, ...findSecretKeys(child, here)];
  });
}

function describe(err: ZodError): string[] {
  return err.issues.map((issue) => {
    const key = issue.path.map(String).join(".") || "(top level)";
    const fix =
      issue.code === "unrecognized_keys"
        ? ` (remove or correct: ${issue.keys.join(", ")}; docs/configuration.md lists every key)`
        : issue.code === "invalid_type" && issue.message.endsWith("received undefined")
          ? " (this key is required)"
          : "";
    return `${key}: ${issue.message}${fix}`;
  });
}

/** Env overrides for addresses and ports (secrets are read by the components that use them). */
function applyEnv(
  raw: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, unknown> {
  const server = { ...(raw.server as Record<string, unknown> | undefined) };
  const redis = { ...(raw.redis as Record<string, unknown> | undefined) };
  if (env.CREDBROKER_PORT) server.port = Number(env.CREDBROKER_PORT);
  if (env.CREDBROKER_PUBLIC_URL) server.public_url = env.CREDBROKER_PUBLIC_URL;
  if (env.CREDBROKER_HOST) server.host = env.CREDBROKER_HOST;
  if (env.CREDBROKER_WORKER_PORT) server.worker_port = Number(env.CREDBROKER_WORKER_PORT);
  if (env.REDIS_URL) redis.url = env.REDIS_URL;
  return { ...raw, server, redis };
}

/** Validates an already-parsed config object (tests and dev mode build them in code). */
export function parseConfig(
  raw: unknown,
  source = "config",
  env: Readonly<Record<string, string | undefined>> = {},
): BrokerConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(source, [
      "(top level): must be a YAML mapping with server, redis, issuers, profiles, …",
    ]);
  }
  const secrets = findSecretKeys(raw);
  if (secrets.length > 0) throw new ConfigError(source, secrets);
  const result = configSchema.safeParse(applyEnv({ ...raw }, env));
  if (!result.success) throw new ConfigError(source, describe(result.error));
  return result.data;
}

/** Reads `CREDBROKER_CONFIG` (default ./credbroker.yaml) or the given file. */
export function loadConfigFile(
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): { config: BrokerConfig; configDir: string } {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, "utf8");
  } catch (err) {
    throw new ConfigError(absolute, [
      `cannot read the file (${(err as NodeJS.ErrnoException).code ?? "error"}); pass --config or set CREDBROKER_CONFIG`,
    ]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(absolute, [`not valid YAML: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return { config: parseConfig(raw, absolute, env), configDir: path.dirname(absolute) };
}
