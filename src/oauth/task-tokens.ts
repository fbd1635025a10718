import { randomBytes } from "node:crypto";
import type { JWTPayload } from "jose";
import type { Clock } from "../shared/clock.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";

/**
 * Task tokens: a JWT the broker signs for one task, following draft-ietf-oauth-transaction-tokens where its
 * claims fit (`txn` = the task id, `sub` = the task's agent, `req_wl` = the principal that opened it, `purp`
 * = its intent, `rctx` = who it runs for). Its own `typ` (`txntoken+jwt`) keeps it from ever passing as an
 * access token (`at+jwt`); its `aud` is the broker itself (the trust domain). It is worth something only
 * while its task is open: every use loads the task, so a closed, closing or expired task makes every one
 * of its tokens useless at once, with no deny-list.
 */

/** The JOSE `typ` of a task token (draft-ietf-oauth-transaction-tokens §4.1). */
export const TASK_TOKEN_TYP = "txntoken+jwt";

/** RFC 8693 token type URI for task tokens, as the transaction-tokens draft registers it. */
export const TASK_TOKEN_TYPE_URI = "urn:ietf:params:oauth:token-type:txn_token";

/** What the broker's signer offers task tokens (providers/signer `BrokerJwtSigner`). */
export interface TaskTokenSigner {
  readonly issuer: string;
  signJwt(claims: JWTPayload, typ: string): Promise<string>;
  verifyJwt(token: string, typ: string): Promise<JWTPayload | undefined>;
}

export interface TaskTokenClaims extends JWTPayload {
  txn: string;
  sub: string;
  req_wl: string;
  purp: string;
  rctx: { initiator: string; initiator_verified: boolean };
  tctx: { profiles: string[] | null; parent_task_id: string | null; depth: number };
}

export interface MintedTaskToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** A verified task token and its task, which was open and before its deadline when read. */
export interface LiveTaskToken {
  claims: JWTPayload & { txn: string; sub: string };
  task: Task;
}

export interface TaskTokens {
  readonly issuer: string;
  mint(task: Task): Promise<MintedTaskToken>;
  /** The token's task when the token is one the broker signed and the task is still open; else undefined. */
  resolve(token: string): Promise<LiveTaskToken | undefined>;
}

export interface TaskTokensDeps {
  signer: TaskTokenSigner;
  tasks: Pick<TaskStore, "get">;
  clock: Clock;
  ttlSeconds: number;
}

export function createTaskTokens(deps: TaskTokensDeps): TaskTokens {
  const { signer, clock } = deps;

  async function mint(task: Task): Promise<MintedTaskToken> {
    const iat = Math.floor(clock.now() / 1000);
    const exp = Math.min(iat + deps.ttlSeconds, Math.floor(task.deadline / 1000));
    const claims: TaskTokenClaims = {
      aud: signer.issuer,
      iat,
      nbf: iat,
      exp,
      jti: randomBytes(12).toString("base64url"),
      txn: task.id,
      sub: task.agent,
      req_wl: task.owner,
      purp: task.intent,
      rctx: { initiator: task.initiator.subject, initiator_verified: task.initiator.verified },
      tctx: { profiles: task.profiles, parent_task_id: task.parentId, depth: task.depth },
    };
    return { token: await signer.signJwt(claims, TASK_TOKEN_TYP), expiresAt: exp * 1000 };
  }

  async function resolve(token: string): Promise<LiveTaskToken | undefined> {
    const payload = await signer.verifyJwt(token, TASK_TOKEN_TYP);
    if (!payload || !isTaskTokenClaims(payload) || !audienceIs(payload, signer.issuer)) return undefined;
    const task = await deps.tasks.get(payload.txn);
    if (!task || task.agent !== payload.sub || task.state !== "open" || task.deadline <= clock.now()) {
      return undefined;
    }
    return { claims: payload, task };
  }

  return { issuer: signer.issuer, mint, resolve };
}

function isTaskTokenClaims(payload: JWTPayload): payload is JWTPayload & { txn: string; sub: string } {
  return typeof payload.txn === "string" && typeof payload.sub === "string";
}

function audienceIs(payload: JWTPayload, audience: string): boolean {
  return Array.isArray(payload.aud) ? payload.aud.includes(audience) : payload.aud === audience;
}
