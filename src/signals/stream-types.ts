/** SSF 1.0 §8.1.1 delivery method URIs. */
export const PUSH_METHOD = "urn:ietf:rfc:8935";
export const POLL_METHOD = "urn:ietf:rfc:8936";

/**
 * CAEP 1.0 session revoked, for both events the broker sends: a task closed (subject: the task as the
 * session) and a signer token revoked before its exp (subject: the token by `jwt_id`, iss + jti).
 */
export const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/** SSF 1.0 §8.1.4.1 verification event. */
export const VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification";

/** The events a stream may ask for (and is sent). */
export const EVENTS_SUPPORTED = [SESSION_REVOKED, VERIFICATION] as const;

export type StreamStatus = "enabled" | "disabled";

/** One stream as stored: what its receiver configured, plus delivery counters. */
export interface Stream {
  id: string;
  /** The owning resource server's principal id (`rs:<client_id>`). */
  owner: string;
  /** Token audiences it hears about (the resource server's `audiences` when the stream was made). */
  audiences: string[];
  /** Push (RFC 8935) to the receiver's endpoint, or poll (RFC 8936) at the broker. */
  method: "push" | "poll";
  /** The receiver's push endpoint; "" for a poll stream. */
  endpointUrl: string;
  eventsRequested: string[];
  description: string;
  status: StreamStatus;
  statusReason: string;
  createdAt: number;
  delivered: number;
  failedAttempts: number;
  /** SETs given up after their last attempt. */
  dropped: number;
  lastDeliveredAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
}

/** The events a stream is sent: what it asked for among those supported (verification always). */
export function eventsDelivered(stream: Pick<Stream, "eventsRequested">): string[] {
  const wanted = new Set(stream.eventsRequested);
  return EVENTS_SUPPORTED.filter((event) => event === VERIFICATION || wanted.has(event));
}
