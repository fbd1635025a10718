import { createHash } from "node:crypto";

/**
 * What an STS session carries about its task, sanitised to AWS's patterns: a RoleSessionName derived from
 * the credential id (so a crashed issuance can still be denied by name), SourceIdentity = the task id, and
 * session tags for task, agent and initiator. Invalid session names are a perennial AssumeRole failure
 * (reference/sts.md §5), so every value is made valid here rather than trusted.
 */

/** RoleSessionName and SourceIdentity: `[\w+=,.@-]`, 2..64 characters. */
const NAME_MAX = 64;
const NAME_INVALID = /[^\w+=,.@-]/g;
const NAME_VALID = /^[\w+=,.@-]+$/;
/** Tag values: letters, separators, digits and `_.:/=+-@`, at most 256 characters. */
const TAG_VALUE_MAX = 256;
const TAG_INVALID = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu;

/** Session tag keys the broker sets; policies can read them as `${aws:PrincipalTag/credbroker:task-id}`. */
export const SESSION_TAG_KEYS = {
  task: "credbroker:task-id",
  agent: "credbroker:agent",
  initiator: "credbroker:initiator",
} as const;

/**
 * A valid `[\w+=,.@-]{2,64}` name for `value`: the value itself when it already is one; otherwise a
 * cleaned head ending in a hash of the whole value, so distinct inputs stay distinct and the same input
 * always gives the same name.
 */
export function stsName(value: string): string {
  if (value.length >= 2 && value.length <= NAME_MAX && NAME_VALID.test(value)) return value;
  const digest = createHash("sha256").update(value).digest("hex").slice(0, 16);
  return `${value.replace(NAME_INVALID, "-").slice(0, NAME_MAX - digest.length - 1)}.${digest}`;
}

/** The RoleSessionName of a credential: a pure function of its id. */
export const roleSessionName = (credentialId: string): string => stsName(credentialId);

/** SourceIdentity: the task id (AWS forbids the `aws:` prefix; ':' never survives sanitising). */
export const sourceIdentity = (taskId: string): string => stsName(taskId);

/** A tag value in AWS's character set, cut to 256 characters (code points, as AWS counts them). */
export function tagValue(value: string): string {
  return [...value.replace(TAG_INVALID, "_")].slice(0, TAG_VALUE_MAX).join("");
}

export interface SessionTag {
  Key: string;
  Value: string;
}

export function sessionTags(subject: { taskId: string; agent: string; initiator: string }): SessionTag[] {
  return [
    { Key: SESSION_TAG_KEYS.task, Value: tagValue(subject.taskId) },
    { Key: SESSION_TAG_KEYS.agent, Value: tagValue(subject.agent) },
    { Key: SESSION_TAG_KEYS.initiator, Value: tagValue(subject.initiator) },
  ];
}

/**
 * `aws:userid` of an assumed-role session: `<RoleId>:<RoleSessionName>` — exactly AssumeRole's
 * `AssumedRoleUser.AssumedRoleId`.
 */
export const sessionUserId = (roleId: string, sessionName: string): string => `${roleId}:${sessionName}`;
