import { AsyncLocalStorage } from "node:async_hooks";
import { type Logger, pino } from "pino";

export type { Logger } from "pino";

/** Every field that can carry secret material, at any depth we log. A backstop: we log allowlisted fields. */
export const REDACT_PATHS = [
  "secret",
  "token",
  "password",
  "authorization",
  "session_token",
  "secret_access_key",
  "private_key",
  "kek",
  "*.secret",
  "*.token",
  "*.password",
  "*.authorization",
  "*.session_token",
  "*.secret_access_key",
  "*.private_key",
  "req.headers.authorization",
  "req.headers.cookie",
];

export interface LoggerOptions {
  level?: string;
  destination?: NodeJS.WritableStream;
}

const requestContext = new AsyncLocalStorage<{ requestId: string }>();

export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return requestContext.run({ requestId }, fn);
}

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const opts = {
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: { service: "credbroker" },
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { request_id: requestId } : {};
    },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
