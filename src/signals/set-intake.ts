import { decodeJwt, decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { AuditLog } from "../audit/audit-log.js";
import type { ReplayGuard } from "../auth/replay-guard.js";
import type { RevocationOrder, RevocationStatus } from "../revocation/emergency-revocation.js";
import type { Clock } from "../shared/clock.js";
import { SET_TYP } from "./set-claims.js";
import { initiatorsOf } from "./subject-identifiers.js";

/** An IdP transmitter the broker listens to (`signals.receivers[]`), with its resolved keys. */
export interface Transmitter {
  name: string;
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
}

/** The RFC 8935 §2.4 error codes the intake answers. */
export type SetErrorCode = "invalid_request" | "invalid_key" | "invalid_issuer" | "invalid_audience";

/** A refused SET: answered 400 `{"err", "description"}` and audited as `signal.rejected`. */
export class SetRefused extends Error {
  constructor(
    readonly err: SetErrorCode,
    readonly description: string,
  ) {
    super(description);
    this.name = "SetRefused";
  }
}

/** The events that close every open task of the subject's initiator. */
export const CLOSING_EVENTS: ReadonlySet<string> = new Set([
  "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
  "https://schemas.openid.net/secevent/caep/event-type/credential-change",
  "https://schemas.openid.net/secevent/risc/event-type/account-disabled",
  "https://schemas.openid.net/secevent/risc/event-type/account-purged",
  "https://schemas.openid.net/secevent/risc/event-type/credential-compromise",
]);

/** Algorithms a SET may be signed with (never `none`, never HMAC). */
const SET_ALGORITHMS = ["ES256", "ES384", "RS256", "PS256", "EdDSA"];

/**
 * The receiver side of Shared Signals: verifies a pushed SET (known issuer, signature by its keys, `typ`,
 * audience, age, `jti` not seen before) and, for a session-revoked, credential-change or account event,
 * starts one emergency revocation per initiator identifier its subject names (closing every open task
 * that initiator started). Every SET is audited: `signal.received` or `signal.rejected`.
 */
export function createSetIntake(deps: {
  transmitters: readonly Transmitter[];
  replayGuard: ReplayGuard;
  revoke: (actor: string, order: RevocationOrder) => Promise<RevocationStatus>;
  audit: Pick<AuditLog, "append">;
  clock: Clock;
  maxAgeSeconds: number;
}) {
  const byIssuer = new Map(deps.transmitters.map((t) => [t.issuer, t]));

  async function verified(set: string, transmitter: Transmitter): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(set, transmitter.keys, {
        issuer: transmitter.issuer,
        audience: transmitter.audience,
        typ: SET_TYP,
        algorithms: SET_ALGORITHMS,
        currentDate: new Date(deps.clock.now()),
      });
      return payload;
    } catch (err) {
      const claim = (err as { claim?: unknown }).claim;
      if (claim === "aud") throw new SetRefused("invalid_audience", "The SET is not for this receiver.");
      if (claim === "typ" || (err as { code?: unknown }).code === "ERR_JWT_CLAIM_VALIDATION_FAILED") {
        throw new SetRefused("invalid_request", `The SET is malformed: ${(err as Error).message}.`);
      }
      throw new SetRefused("invalid_key", "The SET's signature does not verify with the transmitter's keys.");
    }
  }

  async function fresh(
    payload: JWTPayload,
    transmitter: Transmitter,
  ): Promise<{ jti: string; event: string }> {
    const { jti, iat, events } = payload;
    if (typeof jti !== "string" || jti === "" || typeof iat !== "number") {
      throw new SetRefused("invalid_request", "A SET needs jti and iat.");
    }
    const kinds = typeof events === "object" && events !== null ? Object.keys(events) : [];
    if (kinds.length !== 1 || kinds[0] === undefined) {
      throw new SetRefused("invalid_request", "A SET must carry exactly one event.");
    }
    const now = deps.clock.now();
    if (now / 1000 - iat > deps.maxAgeSeconds) throw new SetRefused("invalid_request", "The SET is too old.");
    const expiresAt = (iat + deps.maxAgeSeconds) * 1000 + 60_000;
    if (!(await deps.replayGuard.claim(`ssf:${transmitter.name}`, jti, expiresAt))) {
      throw new SetRefused("invalid_request", `The SET ${jti} was already received.`);
    }
    return { jti, event: kinds[0] };
  }

  async function act(payload: JWTPayload, transmitter: Transmitter, jti: string, event: string) {
    const initiators = CLOSING_EVENTS.has(event) ? initiatorsOf(payload.sub_id) : [];
    const actor = `ssf:${transmitter.name}`;
    const reason = `${event} from ${transmitter.issuer} (SET ${jti})`;
    const revocations: string[] = [];
    for (const initiator of initiators) {
      const started = await deps.revoke(actor, { selector: { initiator }, reason, dryRun: false });
      revocations.push(started.revocation_id);
    }
    await deps.audit.append({
      type: "signal.received",
      actor,
      reason,
      details: { transmitter: transmitter.name, jti, event, initiators, revocations },
    });
  }

  async function refuse(refusal: SetRefused, transmitter: Transmitter | undefined): Promise<never> {
    await deps.audit.append({
      type: "signal.rejected",
      actor: transmitter ? `ssf:${transmitter.name}` : null,
      reason: refusal.description,
      details: { transmitter: transmitter?.name ?? null, err: refusal.err, description: refusal.description },
    });
    throw refusal;
  }

  /** Takes one pushed SET; throws SetRefused (already audited) for anything it does not accept. */
  return async function receive(set: string): Promise<void> {
    let transmitter: Transmitter | undefined;
    try {
      transmitter = byIssuer.get(unverifiedIssuer(set));
      if (!transmitter)
        throw new SetRefused("invalid_issuer", "The SET's issuer is not a configured transmitter.");
      const payload = await verified(set, transmitter);
      const { jti, event } = await fresh(payload, transmitter);
      await act(payload, transmitter, jti, event);
    } catch (err) {
      if (err instanceof SetRefused) return refuse(err, transmitter);
      throw err;
    }
  };
}

export type SetIntake = ReturnType<typeof createSetIntake>;

/** The `iss` before verification: it only picks whose keys verify the SET. */
function unverifiedIssuer(set: string): string {
  try {
    const header = decodeProtectedHeader(set);
    if (header.alg === "none") throw new SetRefused("invalid_key", "An unsigned SET is not accepted.");
    const { iss } = decodeJwt(set);
    if (typeof iss === "string" && iss !== "") return iss;
  } catch (err) {
    if (err instanceof SetRefused) throw err;
    throw new SetRefused("invalid_request", "The body is not a SET (a signed JWT).");
  }
  throw new SetRefused("invalid_issuer", "The SET names no issuer.");
}
