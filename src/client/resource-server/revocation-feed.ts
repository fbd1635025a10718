import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";

/**
 * What a resource server learns from the broker's Shared Signals stream (docs/signals.md): the tasks that
 * closed (CAEP session-revoked, subject the task as the session) and the tokens revoked before their `exp`
 * (subject `jwt_id`). Every SET is verified against the broker's JWKS (`iss`, `aud` = this resource,
 * `typ: secevent+jwt`) before it counts. Give the feed to `createResourceServer({ signals })` and a token
 * of a closed task, or a revoked token, is refused at once, with no introspection per request.
 */
export interface RevocationFeedOptions {
  /** The broker's issuer (the `iss` of its SETs and tokens). */
  issuer: string;
  /** This resource server's audience: the `aud` of the SETs it is sent. */
  audience: string;
  /** Poll delivery (RFC 8936): the stream's poll endpoint and this server's client credentials. */
  poll?: { endpointUrl: string; clientId: string; clientSecret: string };
  /** How long a revoked task or token is remembered (default 24 h: longer than any token lives). */
  rememberSeconds?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

/** The SSF `session-revoked` event type, the one the broker sends about tasks and tokens. */
const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/** Entries kept at most per kind; the oldest go first. */
const MAX_ENTRIES = 100_000;

export interface RevocationFeed {
  /** Whether these (verified) token claims belong to a revoked token or a closed task. */
  isRevoked(claims: JWTPayload): boolean;
  /**
   * Takes one SET (a push body, RFC 8935): true when verified and recorded, false when refused (the
   * push endpoint answers 400 then).
   */
  accept(set: string): Promise<boolean>;
  /**
   * An RFC 8935 push endpoint for Express-like apps; the body must reach it as a string (e.g.
   * `express.text({ type: "application/secevent+jwt" })` before it).
   */
  pushHandler(): (
    req: { body?: unknown },
    res: { status(code: number): { json(body: unknown): unknown; end(): unknown } },
  ) => Promise<void>;
  /** One RFC 8936 poll: acknowledges what it verified, refuses the rest; resolves to the SETs taken. */
  pollOnce(): Promise<number>;
  /** Polls every `intervalMs` until the returned function is called. */
  startPolling(intervalMs: number, onError?: (err: unknown) => void): () => void;
}

export function createRevocationFeed(options: RevocationFeedOptions): RevocationFeed {
  const now = options.now ?? (() => Date.now());
  const doFetch = options.fetch ?? fetch;
  const rememberMs = (options.rememberSeconds ?? 86_400) * 1000;
  const tasks = new Map<string, number>();
  const tokens = new Map<string, number>();
  let jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  function keys() {
    jwks ??= (async () => {
      const url = `${options.issuer.replace(/\/+$/, "")}/.well-known/ssf-configuration`;
      const res = await doFetch(url);
      const body: unknown = res.ok ? await res.json() : null;
      const jwksUri = typeof body === "object" && body !== null && "jwks_uri" in body ? body.jwks_uri : null;
      if (typeof jwksUri !== "string") throw new Error(`no SSF metadata at ${url}`);
      return createRemoteJWKSet(new URL(jwksUri));
    })().catch((err: unknown) => {
      jwks = undefined;
      throw err;
    });
    return jwks;
  }

  function remember(map: Map<string, number>, id: string): void {
    map.set(id, now());
    if (map.size <= MAX_ENTRIES) return;
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }

  function seen(map: Map<string, number>, id: unknown): boolean {
    if (typeof id !== "string") return false;
    const at = map.get(id);
    if (at === undefined) return false;
    if (now() - at <= rememberMs) return true;
    map.delete(id);
    return false;
  }

  async function accept(set: string): Promise<boolean> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(set, await keys(), {
        issuer: options.issuer,
        audience: options.audience,
        typ: "secevent+jwt",
      }));
    } catch {
      return false;
    }
    const events = payload.events;
    if (typeof events !== "object" || events === null || !(SESSION_REVOKED in events)) return true;
    const subject = payload.sub_id as Record<string, unknown> | undefined;
    if (subject?.format === "jwt_id" && subject.iss === options.issuer && typeof subject.jti === "string") {
      remember(tokens, subject.jti);
    }
    const session = subject?.format === "complex" ? (subject.session as Record<string, unknown>) : undefined;
    if (session?.format === "opaque" && typeof session.id === "string") remember(tasks, session.id);
    return true;
  }

  async function pollOnce(): Promise<number> {
    const poll = options.poll;
    if (!poll) throw new Error("the feed has no poll endpoint");
    const basic = Buffer.from(
      `${encodeURIComponent(poll.clientId)}:${encodeURIComponent(poll.clientSecret)}`,
    ).toString("base64");
    const call = async (body: unknown) => {
      const res = await doFetch(poll.endpointUrl, {
        method: "POST",
        headers: { authorization: `Basic ${basic}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`the poll endpoint answered ${res.status}`);
      return (await res.json()) as { sets?: Record<string, string> };
    };
    const { sets = {} } = await call({ returnImmediately: true });
    const ack: string[] = [];
    const setErrs: Record<string, { err: string; description: string }> = {};
    for (const [jti, set] of Object.entries(sets)) {
      if (await accept(set)) ack.push(jti);
      else setErrs[jti] = { err: "invalid_key", description: "the SET does not verify" };
    }
    if (ack.length + Object.keys(setErrs).length > 0) await call({ ack, setErrs, maxEvents: 0 });
    return Object.keys(sets).length;
  }

  return {
    isRevoked: (claims) => seen(tokens, claims.jti) || seen(tasks, claims.task_id),
    accept,
    pushHandler: () => async (req, res) => {
      const ok = typeof req.body === "string" && (await accept(req.body.trim()));
      if (ok) return void res.status(202).end();
      res.status(400).json({ err: "invalid_request", description: "The SET was not accepted." });
    },
    pollOnce,
    startPolling(intervalMs, onError) {
      let stopped = false;
      const loop = async () => {
        while (!stopped) {
          await pollOnce().catch((err: unknown) => onError?.(err));
          await new Promise((resolve) => setTimeout(resolve, intervalMs).unref());
        }
      };
      void loop();
      return () => {
        stopped = true;
      };
    },
  };
}
