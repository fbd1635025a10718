import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Router } from "express";
import { type Broker, createBroker } from "../app.js";
import { parseConfig } from "../config/load-config.js";
import { installSighupReload } from "../policy/sighup.js";
import { createLogger } from "../shared/logger.js";
import { resolveDevRedis } from "./dev-redis.js";
import { devDir, newDevPrefix, newDevSecrets, readDevState, writeDevState } from "./dev-state.js";
import { DEV_CONSOLE_CLIENT_ID, DEV_USERS } from "./dev-users.js";
import { devWalkthrough } from "./dev-walkthrough.js";
import { createOidcIssuer } from "./oidc-issuer.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DEV_AUDIENCE = "credbroker";

/**
 * `npm start`: api + worker in one process, a local OIDC issuer at /dev/oidc that mints workload tokens,
 * the signer with a demo profile, and the dev policy. Redis from REDIS_URL, 127.0.0.1:6379, or spawned.
 */
export async function startDevMode(options: {
  port: number;
  cwd: string;
}): Promise<{ broker: Broker; stop: () => Promise<void> }> {
  const env = process.env;
  const logger = createLogger({ level: env.LOG_LEVEL ?? "warn" });
  const redis = await resolveDevRedis(env);
  const publicUrl = `http://127.0.0.1:${options.port}`;
  const issuerUrl = `${publicUrl}/dev/oidc`;
  const previous = readDevState(options.cwd);
  const secrets = previous ?? newDevSecrets();
  // State written before dev prefixes existed has none: give it one (its keys under "cbdev" are left alone).
  const keyPrefix = env.CREDBROKER_KEY_PREFIX ?? (secrets.keyPrefix || newDevPrefix());
  // The console signs in at the dev issuer: a fresh client secret each start, handed over in the env.
  const consoleSecret = randomBytes(24).toString("base64url");
  const issuer = await createOidcIssuer({
    issuerUrl,
    keys: previous?.issuers[issuerUrl],
    login: {
      clients: [
        {
          clientId: DEV_CONSOLE_CLIENT_ID,
          clientSecret: consoleSecret,
          redirectUris: [`${publicUrl}/console/auth/callback`],
        },
      ],
      users: DEV_USERS,
    },
  });
  writeDevState({
    dir: devDir(options.cwd),
    kek: secrets.kek,
    auditKey: secrets.auditKey,
    keyPrefix,
    issuerKeys: issuer.exportKeys(),
    issuerUrl,
    audience: DEV_AUDIENCE,
    issuers: { ...previous?.issuers, [issuerUrl]: issuer.exportKeys() },
  });

  const config = parseConfig(
    {
      server: { port: options.port, host: "127.0.0.1", audience: DEV_AUDIENCE, public_url: publicUrl },
      redis: { url: redis.url, key_prefix: keyPrefix },
      issuers: [
        { name: "dev", kind: "oidc", issuer: issuerUrl, algorithms: ["ES256"], jwks_cooldown_seconds: 1 },
      ],
      policy: { files: [path.join(REPO_ROOT, "examples/policies/dev.cedar")] },
      profiles: {
        "tickets-api": {
          provider: "signer",
          max_ttl_seconds: 900,
          audience: "https://tickets.internal",
          scopes: ["tickets:read", "tickets:write"],
        },
        // Held for a human by the dev policy: the copilot journey (202 → approve → redeem).
        "tickets-admin": {
          provider: "signer",
          max_ttl_seconds: 300,
          audience: "https://tickets.internal",
          scopes: ["tickets:admin"],
        },
      },
      revocation: { reconcile_interval_seconds: 5 },
      console: {
        oidc: { name: "dev", issuer: issuerUrl, client_id: DEV_CONSOLE_CLIENT_ID, id_token_alg: "ES256" },
      },
    },
    "dev mode",
  );
  const broker = await createBroker({
    config,
    configDir: options.cwd,
    role: "all",
    logger,
    env: {
      ...env,
      CREDBROKER_SIGNER_KEK: secrets.kek,
      CREDBROKER_AUDIT_HMAC_KEY: secrets.auditKey,
      CREDBROKER_CONSOLE_CLIENT_SECRET: consoleSecret,
    },
    extraPublicRoutes: [Router().use("/dev/oidc", issuer.router())],
  });
  await broker.listen(options.port, "127.0.0.1");
  const uninstall = installSighupReload(broker.policy, logger);
  process.stdout.write(devWalkthrough({ publicUrl, redisUrl: redis.url, redisOrigin: redis.origin }));
  return {
    broker,
    stop: async () => {
      uninstall();
      await broker.close();
      await redis.stop();
    },
  };
}
