import { VaultApiError } from "./vault-errors.js";
import { authResponseSchema, parseVault, tokenLookupSchema } from "./vault-responses.js";
import type { VaultCall, VaultTransport } from "./vault-transport.js";

/**
 * The broker's own identity at Vault: a token given by the operator, or an AppRole login. The token is
 * renewed (`auth/token/renew-self`) once `renewFraction` of its TTL has passed; an AppRole token that can no
 * longer be renewed (max TTL reached, or revoked) is replaced by logging in again. Leases the broker reads
 * are owned by this token, so it must outlive them: see docs/providers/vault.md.
 */

export type VaultLogin =
  | { method: "token"; token: string }
  | { method: "approle"; mount: string; roleId: string; secretId: string };

/** The subset of a pino logger the provider uses (providers never import src/). */
export interface VaultLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface VaultSessionDeps {
  transport: VaultTransport;
  login: VaultLogin;
  /** Epoch ms. */
  now: () => number;
  logger: VaultLogger;
  /** Renew once this fraction of the token's TTL has passed. Default 2/3. */
  renewFraction?: number;
  /** Delay before retrying a failed login or renewal. Default 5 s (less when the token expires sooner). */
  retryMs?: number;
}

export interface VaultSession {
  /** Sends a call as the broker. On a 403 it checks whether its own token died; AppRole logs in again once. */
  send(call: Omit<VaultCall, "token">): Promise<unknown>;
  /** Sends a call as another token the broker created (a lease owner token); no re-login on a 403. */
  sendAs(token: string, call: Omit<VaultCall, "token">): Promise<unknown>;
  /** Looks the token up (or logs in) and arms renewal, in the background: a down Vault does not stop start-up. */
  start(): void;
  /** Renews the broker's token now (also what the timer does). */
  renew(): Promise<void>;
  /** Epoch ms at which the broker's current token expires; null when unknown or never. */
  tokenExpiresAt(): number | null;
  close(): void;
}

const MAX_TIMER_MS = 2_147_483_647;

interface CurrentToken {
  token: string;
  /** Epoch ms; null = never expires (or not looked up yet). */
  expiresAt: number | null;
  renewable: boolean;
  /** The increment asked for at renewal: the token's creation TTL. */
  ttlSeconds: number;
}

export function createVaultSession(deps: VaultSessionDeps): VaultSession {
  const { transport, login, now, logger } = deps;
  const renewFraction = deps.renewFraction ?? 2 / 3;
  const retryMs = deps.retryMs ?? 5_000;
  let current: CurrentToken | null =
    login.method === "token"
      ? { token: login.token, expiresAt: null, renewable: false, ttlSeconds: 0 }
      : null;
  let loggingIn: Promise<CurrentToken> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function arm(delayMs: number, action: () => Promise<unknown>): void {
    clearTimeout(timer);
    if (closed) return;
    timer = setTimeout(
      () => {
        action().catch(() => {});
      },
      // setTimeout fires at once beyond 2^31-1 ms (~24.8 days); clamped, a renewal merely comes early.
      Math.min(Math.max(0, delayMs), MAX_TIMER_MS),
    );
    timer.unref();
  }

  function retryDelay(): number {
    const left = current?.expiresAt == null ? retryMs : (current.expiresAt - now()) / 2;
    return Math.max(100, Math.min(retryMs, left));
  }

  /** Arms the next renewal (or, for an AppRole token that cannot be renewed, the next login). */
  function schedule(token: CurrentToken): void {
    if (token.expiresAt === null) return;
    const delay = (token.expiresAt - now()) * renewFraction;
    if (token.renewable) arm(delay, renew);
    else if (login.method === "approle") arm(delay, relogin);
    else
      logger.warn(
        { expires_at: new Date(token.expiresAt).toISOString() },
        "the broker's Vault token is not renewable",
      );
  }

  async function appRoleLogin(): Promise<CurrentToken> {
    if (login.method !== "approle") throw new Error("not an AppRole session");
    const path = `auth/${login.mount}/login`;
    const body = await transport.send({
      method: "POST",
      path,
      body: { role_id: login.roleId, secret_id: login.secretId },
    });
    const { auth } = parseVault(authResponseSchema, body, path);
    const token: CurrentToken = {
      token: auth.client_token,
      expiresAt: auth.lease_duration > 0 ? now() + auth.lease_duration * 1000 : null,
      renewable: auth.renewable,
      ttlSeconds: auth.lease_duration,
    };
    current = token;
    logger.info({ ttl_seconds: auth.lease_duration }, "logged in to Vault with AppRole");
    schedule(token);
    return token;
  }

  /** Single-flight login; concurrent callers share one. */
  function relogin(): Promise<CurrentToken> {
    loggingIn ??= appRoleLogin().finally(() => {
      loggingIn = null;
    });
    return loggingIn.catch((err: unknown) => {
      logger.warn({ error: (err as Error).message }, "Vault AppRole login failed");
      arm(retryDelay(), relogin);
      throw err;
    });
  }

  async function currentToken(): Promise<CurrentToken> {
    if (current && (current.expiresAt === null || current.expiresAt - now() > 1_000)) return current;
    if (login.method === "approle") return relogin();
    if (!current) throw new Error("no Vault token");
    return current;
  }

  async function lookupSelf(): Promise<void> {
    if (!current) return;
    const token = current.token;
    const path = "auth/token/lookup-self";
    const { data } = parseVault(
      tokenLookupSchema,
      await transport.send({ method: "GET", path, token }),
      path,
    );
    const creationTtl = typeof data.creation_ttl === "number" ? data.creation_ttl : data.ttl;
    current = {
      token,
      expiresAt: data.ttl > 0 ? now() + data.ttl * 1000 : null,
      renewable: data.renewable,
      ttlSeconds: creationTtl,
    };
    schedule(current);
  }

  async function renew(): Promise<void> {
    const held = current;
    if (!held || closed) return;
    const path = "auth/token/renew-self";
    try {
      const body = await transport.send({
        method: "POST",
        path,
        token: held.token,
        body: { increment: `${held.ttlSeconds}s` },
      });
      const { auth } = parseVault(authResponseSchema, body, path);
      const renewed: CurrentToken = { ...held, expiresAt: now() + auth.lease_duration * 1000 };
      current = renewed;
      if (auth.lease_duration < held.ttlSeconds) {
        logger.warn({ ttl_seconds: auth.lease_duration }, "the broker's Vault token is near its max TTL");
        if (login.method === "approle") {
          arm((renewed.expiresAt ?? now()) - now() - Math.min(5_000, auth.lease_duration * 500), relogin);
          return;
        }
      }
      schedule(renewed);
    } catch (err) {
      const dead = err instanceof VaultApiError && (err.status === 403 || err.status === 400);
      logger.warn({ error: (err as Error).message }, "renewing the broker's Vault token failed");
      if (dead && login.method === "approle") arm(0, relogin);
      else arm(retryDelay(), renew);
    }
  }

  /** Whether Vault no longer accepts `token` (lookup-self denied). Other failures: unknown, so false. */
  async function isDead(token: string): Promise<boolean> {
    try {
      await transport.send({ method: "GET", path: "auth/token/lookup-self", token });
      return false;
    } catch (err) {
      return err instanceof VaultApiError && err.status === 403;
    }
  }

  async function send(call: Omit<VaultCall, "token">): Promise<unknown> {
    const held = await currentToken();
    try {
      return await transport.send({ ...call, token: held.token });
    } catch (err) {
      if (!(err instanceof VaultApiError && err.status === 403) || !(await isDead(held.token))) throw err;
      if (login.method === "token") {
        throw new VaultApiError(403, ["the broker's own Vault token is invalid or expired"], call.path);
      }
      if (current === held) current = null;
      const fresh = await currentToken();
      return transport.send({ ...call, token: fresh.token });
    }
  }

  function start(): void {
    const first = login.method === "token" ? lookupSelf() : relogin().then(() => undefined);
    first.catch((err: unknown) => {
      logger.warn({ error: (err as Error).message }, "could not reach Vault at start; retrying");
      if (login.method === "token") arm(retryDelay(), async () => start());
    });
  }

  return {
    send,
    sendAs: (token, call) => transport.send({ ...call, token }),
    start,
    renew,
    tokenExpiresAt: () => current?.expiresAt ?? null,
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
