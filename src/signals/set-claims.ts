import type { JWTPayload } from "jose";
import { newId } from "../shared/ids.js";
import { SESSION_REVOKED, VERIFICATION } from "./stream-types.js";

/** The JOSE `typ` of every Security Event Token the broker signs (RFC 8417 §2.3). */
export const SET_TYP = "secevent+jwt";

/** A task closed: the task is the session; every signer token of it carries it as `task_id`. */
export interface TaskClosedEvent {
  kind: "task";
  taskId: string;
  /** The close reason (`closed`, `deadline`, `revoked`, `parent_closed`, …). */
  reason: string;
  /** Epoch ms. */
  at: number;
}

/** A signer token revoked before its `exp`: identified by the broker's `iss` and its `jti`. */
export interface TokenRevokedEvent {
  kind: "token";
  jti: string;
  taskId: string;
  reason: string;
  at: number;
}

export interface VerificationEvent {
  kind: "verification";
  streamId: string;
  state: string | undefined;
  at: number;
}

export type SignalEvent = TaskClosedEvent | TokenRevokedEvent | VerificationEvent;

/** Which CAEP/SSF event a signal is. */
export const eventUriOf = (event: SignalEvent): string =>
  event.kind === "verification" ? VERIFICATION : SESSION_REVOKED;

/**
 * The claims of one SET for one stream (signed at delivery, so retries resend the same `jti`). `iss` is
 * added by the signer; `aud` is the stream's audiences.
 */
export function setClaims(event: SignalEvent, audiences: readonly string[], issuer: string): JWTPayload {
  const seconds = Math.floor(event.at / 1000);
  const base = {
    jti: newId("set"),
    iat: seconds,
    aud: audiences.length === 1 ? audiences[0] : [...audiences],
  };
  if (event.kind === "verification") {
    return {
      ...base,
      sub_id: { format: "opaque", id: event.streamId },
      events: { [VERIFICATION]: event.state === undefined ? {} : { state: event.state } },
    };
  }
  const subject =
    event.kind === "task"
      ? { format: "complex", session: { format: "opaque", id: event.taskId } }
      : { format: "jwt_id", iss: issuer, jti: event.jti };
  return {
    ...base,
    txn: event.taskId,
    sub_id: subject,
    events: {
      [SESSION_REVOKED]: {
        event_timestamp: seconds,
        initiating_entity: "policy",
        reason_admin: { en: `credbroker: ${event.kind === "task" ? "task" : "token"} ${event.reason}` },
      },
    },
  };
}
