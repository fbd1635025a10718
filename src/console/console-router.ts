import { type RequestHandler, Router } from "express";
import type { AuditLog } from "../audit/audit-log.js";
import type { BrokerConfig } from "../config/config-schema.js";
import type { RedisClient } from "../shared/redis.js";
import { approvalPages } from "./console-approvals.js";
import { CONSOLE_CSS, CONSOLE_JS } from "./console-assets.js";
import { auditPages } from "./console-audit.js";
import { consoleAuth } from "./console-auth.js";
import { consoleErrorHandler, sendProblem, userOf } from "./console-context.js";
import { failedPages } from "./console-failed.js";
import { createConsoleOidc } from "./console-oidc.js";
import { overviewPage } from "./console-overview.js";
import { revocationPages } from "./console-revocations.js";
import type { ConsoleServices } from "./console-services.js";
import { createConsoleSessions } from "./console-sessions.js";
import { taskPages } from "./console-tasks.js";

export interface ConsoleDeps {
  console: NonNullable<BrokerConfig["console"]>;
  publicUrl: string;
  env: Record<string, string | undefined>;
  redis: RedisClient;
  keyPrefix: string;
  services: ConsoleServices;
  audit: Pick<AuditLog, "append">;
  /** Rate-limits a signed-in request by its human (see `userOf`). */
  rateLimit: RequestHandler;
  logger: { error(obj: object, msg: string): void };
}

/**
 * The web console at /console: static assets, sign-in, then the pages behind the session and CSRF checks.
 * Every page calls the same services as /v1, with the signed-in human as the principal.
 */
export function consoleRouter(deps: ConsoleDeps): Router {
  const { oidc, session } = deps.console;
  const clientSecret = deps.env[oidc.client_secret_env];
  if (!clientSecret)
    throw new Error(`console.oidc: the client secret env var ${oidc.client_secret_env} is not set`);
  const base = deps.publicUrl.replace(/\/$/, "");
  const sessions = createConsoleSessions({
    redis: deps.redis,
    keyPrefix: deps.keyPrefix,
    idleMs: session.idle_timeout_seconds * 1000,
    absoluteMs: session.absolute_timeout_seconds * 1000,
    now: () => deps.services.clock.now(),
    audit: deps.audit,
  });
  const inner = Router();
  inner.get("/static/console.js", (_req, res) => {
    res.set("cache-control", "public, max-age=300").type("text/javascript").send(CONSOLE_JS);
  });
  inner.get("/static/console.css", (_req, res) => {
    res.set("cache-control", "public, max-age=300").type("text/css").send(CONSOLE_CSS);
  });
  inner.use(
    consoleAuth({
      sessions,
      oidc: createConsoleOidc({ oidc, clientSecret, redirectUri: `${base}/console/auth/callback` }),
      publicUrl: deps.publicUrl,
      idpName: oidc.name,
      absoluteTimeoutSeconds: session.absolute_timeout_seconds,
      rateLimit: deps.rateLimit,
    }),
  );
  for (const pages of [overviewPage, taskPages, approvalPages, revocationPages, failedPages, auditPages])
    inner.use(pages(deps.services));
  inner.use((req, res) => {
    sendProblem(res, {
      status: 404,
      title: "Not found",
      message: "No console page here.",
      user: userOf(req),
    });
  });
  inner.use(consoleErrorHandler(deps.logger));
  return Router().use("/console", inner);
}
