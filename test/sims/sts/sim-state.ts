import { randomBytes } from "node:crypto";
import type { PolicyDocument } from "./policy-eval.js";

/** The simulator's time source; tests share one with the broker to move both past a deadline. */
export interface SimClock {
  now(): number;
}

/** Who may assume a role, and what the trust policy allows besides `sts:AssumeRole`. */
export interface SimTrust {
  /** Caller ARNs allowed to assume the role; `"*"` trusts every user and session of the simulator. */
  principals: readonly string[] | "*";
  /** `sts:TagSession`. */
  tagSession: boolean;
  /** `sts:SetSourceIdentity`. */
  setSourceIdentity: boolean;
  /** Required `sts:ExternalId`, if any. */
  externalId?: string;
  /** OIDC issuers (as in the token's `iss`) trusted for AssumeRoleWithWebIdentity. */
  webIdentityIssuers: readonly string[];
}

/** One write of an inline policy; the data plane sees it `propagationDelayMs` after `writtenAt`. */
export interface PolicyVersion {
  /** Null once deleted. */
  text: string | null;
  parsed: PolicyDocument | null;
  writtenAt: number;
}

export interface SimRole {
  name: string;
  path: string;
  arn: string;
  roleId: string;
  accountId: string;
  maxSessionDuration: number;
  createdAt: number;
  trust: SimTrust;
  /** The role's permissions besides its inline policies (default: allow everything). */
  permissions: PolicyDocument;
  /** Inline policies by name, each with its history of writes (newest last). */
  inline: Map<string, PolicyVersion[]>;
}

export interface SimUser {
  arn: string;
  /** `AIDA…`. */
  userId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** A session issued by AssumeRole or AssumeRoleWithWebIdentity. */
export interface SimSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  roleArn: string;
  roleId: string;
  sessionName: string;
  /** `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  arn: string;
  sourceIdentity: string | undefined;
  /** Session tags, keys as given (matched case-insensitively). */
  tags: Record<string, string>;
  policyText: string | undefined;
  policy: PolicyDocument | undefined;
  issuedAt: number;
  expiresAt: number;
  durationSeconds: number;
}

export type Caller = { kind: "user"; user: SimUser } | { kind: "session"; session: SimSession };

export const ACCOUNT_ID = "111122223333";

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** AWS-looking identifiers: 4-letter prefix + 16 (or `length`) base32 characters. */
export function awsId(prefix: string, length = 16): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

export const randomSecret = (): string => randomBytes(30).toString("base64");

export interface SimState {
  clock: SimClock;
  roles: Map<string, SimRole>;
  users: Map<string, SimUser>;
  sessions: Map<string, SimSession>;
  /** Registered OIDC providers for AssumeRoleWithWebIdentity: issuer → accepted audiences. */
  oidcProviders: Map<string, { audiences: readonly string[]; verify?: (token: string) => Promise<void> }>;
  /** How long an inline-policy write takes to reach the data plane. */
  propagationDelayMs: number;
  /** Makes every AssumeRole answer PackedPolicyTooLarge. */
  packedPolicyTooLarge: boolean;
}

/** The inline policy text the control plane returns now (the newest write), or undefined. */
export function currentInline(role: SimRole, name: string): string | undefined {
  const versions = role.inline.get(name);
  return versions?.at(-1)?.text ?? undefined;
}

/** The inline policies the data plane enforces at `at`, given the propagation delay. */
export function enforcedInline(role: SimRole, at: number, delayMs: number): PolicyDocument[] {
  const enforced: PolicyDocument[] = [];
  for (const versions of role.inline.values()) {
    const visible = versions.filter((v) => v.writtenAt + delayMs <= at).at(-1);
    if (visible?.parsed) enforced.push(visible.parsed);
  }
  return enforced;
}
