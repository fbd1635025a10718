import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import type {
  CredentialProvider,
  IssuedCredential,
  IssueRequest,
  RevokeOutcome,
  RevokeRequest,
} from "../provider.js";
import { PermanentProviderError, TransientProviderError } from "../provider-errors.js";
import type { DenyOutcome, DenyPolicyStore } from "./deny-policy-store.js";
import type { RoleDirectory } from "./role-directory.js";
import { roleSessionName, sessionTags, sessionUserId, sourceIdentity } from "./session-identity.js";
import {
  awsTimestamp,
  boundSessionPolicy,
  SESSION_POLICY_MAX_CHARS,
  type SessionPolicy,
} from "./session-policy.js";
import type { StsProfile } from "./sts-config.js";
import { classifyAwsError } from "./sts-errors.js";
import { formatStsHandle, parseStsHandle, type StsHandle } from "./sts-handle.js";

/**
 * AWS STS: one AssumeRole session per credential, bound to its task three ways — the session policy denies
 * everything after the task deadline, the session's name, SourceIdentity and tags name the credential,
 * task, agent and initiator, and revocation puts a Deny for the session on the role (STS has no revoke
 * API and no lifetime under 900 s).
 */

/** STS's floor for DurationSeconds. */
export const STS_MIN_SESSION_SECONDS = 900;
/** Without a handle the expiry is the broker's estimate; this covers the 900 s floor and issuance latency. */
const UNKNOWN_EXPIRY_SLACK_MS = STS_MIN_SESSION_SECONDS * 1000;
/** The session's expiry may trail the deadline by round-trip time without being worth a note. */
const DEADLINE_NOTE_TOLERANCE_MS = 2_000;

/** A configured STS profile with its session policy parsed once at start. */
export interface StsProfileEntry {
  profile: StsProfile;
  policy: SessionPolicy;
}

export interface StsProviderDeps {
  sts: Pick<STSClient, "send">;
  roles: RoleDirectory;
  denies: DenyPolicyStore;
  profiles: Record<string, StsProfileEntry>;
  /** Epoch ms. */
  now: () => number;
  /** Releases the SDK clients. */
  closeClients: () => void;
}

function auditDetails(roleArn: string, outcome: DenyOutcome): RevokeOutcome | undefined {
  if (outcome.method === "session_deny") return undefined;
  return {
    auditDetails: {
      deny: "role_cutoff",
      role_arn: roleArn,
      issued_before: new Date(outcome.cutoff.issuedBeforeMs).toISOString(),
      note:
        "The role's deny policy was full: every session of the role issued before issued_before is denied, " +
        "including other tasks' sessions, which must request new credentials.",
    },
  };
}

export function createStsProvider(deps: StsProviderDeps): CredentialProvider {
  const { sts, roles, denies, now } = deps;

  function entryOf(name: string): StsProfileEntry {
    const entry = Object.hasOwn(deps.profiles, name) ? deps.profiles[name] : undefined;
    if (entry === undefined) throw new PermanentProviderError(`unknown sts profile ${name}`);
    return entry;
  }

  function notesFor(request: IssueRequest, durationSeconds: number, expiresAt: number): string[] {
    const notes: string[] = [];
    // The broker raises a TTL under the provider minimum itself (and says so); this covers direct callers.
    if (request.ttlSeconds < STS_MIN_SESSION_SECONDS) {
      notes.push(
        `AWS STS sessions last at least ${STS_MIN_SESSION_SECONDS} s; this one was issued for ${durationSeconds} s ` +
          `instead of the ${request.ttlSeconds} s allowed.`,
      );
    }
    if (expiresAt > request.taskDeadline + DEADLINE_NOTE_TOLERANCE_MS) {
      notes.push(
        `The AWS session expires at ${awsTimestamp(expiresAt)}, after the task deadline ${awsTimestamp(request.taskDeadline)}: ` +
          "its session policy denies every request after the deadline, and the session is denied on the role when the task ends.",
      );
    }
    return notes;
  }

  async function issue(request: IssueRequest): Promise<IssuedCredential> {
    const { profile, policy } = entryOf(request.profile);
    if (request.taskDeadline <= now()) throw new PermanentProviderError("the task deadline has passed");
    const role = await roles.lookup(profile.role_arn);
    const durationSeconds = Math.max(
      STS_MIN_SESSION_SECONDS,
      Math.min(request.ttlSeconds, profile.max_ttl_seconds, role.maxSessionDurationSeconds),
    );
    const sessionPolicy = boundSessionPolicy(policy, request.taskDeadline);
    if (sessionPolicy.length > SESSION_POLICY_MAX_CHARS) {
      throw new PermanentProviderError(
        `the session policy of profile ${request.profile} is ${sessionPolicy.length} characters with its deadline ` +
          `conditions, over STS's ${SESSION_POLICY_MAX_CHARS}`,
      );
    }
    const sessionName = roleSessionName(request.credentialId);
    const response = await sts
      .send(
        new AssumeRoleCommand({
          RoleArn: role.arn,
          RoleSessionName: sessionName,
          DurationSeconds: durationSeconds,
          Policy: sessionPolicy,
          SourceIdentity: sourceIdentity(request.taskId),
          Tags: sessionTags({
            taskId: request.taskId,
            agent: request.agent,
            initiator: request.initiator.subject,
          }),
        }),
      )
      .catch((err: unknown) => {
        throw classifyAwsError(err, `STS AssumeRole ${role.arn}`);
      });
    const { Credentials: credentials, AssumedRoleUser: user } = response;
    if (
      !credentials?.AccessKeyId ||
      !credentials.SecretAccessKey ||
      !credentials.SessionToken ||
      !user?.Arn
    ) {
      throw new TransientProviderError("STS AssumeRole answered without credentials");
    }
    const expiresAt = credentials.Expiration?.getTime() ?? now() + durationSeconds * 1000;
    const handle: StsHandle = {
      role_arn: role.arn,
      session_name: sessionName,
      user_id: user.AssumedRoleId ?? sessionUserId(role.roleId, sessionName),
      expires_at: expiresAt,
    };
    return {
      handle: formatStsHandle(handle),
      expiresAt,
      downstreamAccount: user.Arn,
      secret: {
        access_key_id: credentials.AccessKeyId,
        secret_access_key: credentials.SecretAccessKey,
        session_token: credentials.SessionToken,
        expiration: new Date(expiresAt).toISOString(),
      },
      notes: notesFor(request, durationSeconds, expiresAt),
    };
  }

  /**
   * Without a handle (the broker stopped between AssumeRole and recording it) the session name is still
   * known from the credential id; the role is the profile's when the caller names it, else every role this
   * provider's profiles use (a deny for a session that never existed is harmless and pruned like any other).
   */
  function rolesFor(request: RevokeRequest): string[] {
    if (request.profile !== undefined && Object.hasOwn(deps.profiles, request.profile)) {
      return [entryOf(request.profile).profile.role_arn];
    }
    return [...new Set(Object.values(deps.profiles).map((entry) => entry.profile.role_arn))];
  }

  async function revoke(request: RevokeRequest): Promise<RevokeOutcome | undefined> {
    if (request.handle !== null) {
      const handle = parseStsHandle(request.handle);
      const outcome = await denies.denySession(handle.role_arn, {
        userId: handle.user_id,
        expiresAt: handle.expires_at,
      });
      return auditDetails(handle.role_arn, outcome);
    }
    let reported: RevokeOutcome | undefined;
    for (const roleArn of rolesFor(request)) {
      const role = await roles.lookup(roleArn);
      const outcome = await denies.denySession(roleArn, {
        userId: sessionUserId(role.roleId, roleSessionName(request.credentialId)),
        expiresAt: request.expiresAt + UNKNOWN_EXPIRY_SLACK_MS,
      });
      reported ??= auditDetails(roleArn, outcome);
    }
    return reported;
  }

  return {
    kind: "sts",
    semantics: "deny-policy",
    hasProfile: (name) => Object.hasOwn(deps.profiles, name),
    ttlBounds: (name) => ({ min: STS_MIN_SESSION_SECONDS, max: entryOf(name).profile.max_ttl_seconds }),
    allowedScopes: (name) => {
      entryOf(name);
      return [];
    },
    issue,
    revoke,
    async housekeeping() {
      const { failed } = await denies.pruneDue();
      if (failed.length > 0) {
        throw new TransientProviderError(
          `could not prune the deny policy of ${failed.map((f) => `${f.roleArn} (${f.error})`).join(", ")}`,
        );
      }
    },
    async close() {
      deps.closeClients();
    },
  };
}
