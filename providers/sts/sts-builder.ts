import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import type { CredentialProvider } from "../provider.js";
import type { ProviderHost, ProviderSection } from "../provider-host.js";
import { createDenyPolicyStore } from "./deny-policy-store.js";
import { createRoleDirectory } from "./role-directory.js";
import { createRoleLock } from "./role-lock.js";
import { createRolePolicyApi } from "./role-policy-api.js";
import { boundSessionPolicy, parseSessionPolicy, SESSION_POLICY_MAX_CHARS } from "./session-policy.js";
import type { StsProfile, StsProviderConfig } from "./sts-config.js";
import { stsRedisKeys } from "./sts-keys.js";
import { createStsProvider, type StsProfileEntry } from "./sts-provider.js";

/** The inline policy the broker owns on every role it issues sessions of. */
export const DENY_POLICY_NAME = "credbroker-revoked-sessions";
/** Deny entries outlive their session by this much (clock skew between the broker and AWS). */
const PRUNE_MARGIN_MS = 60_000;
/** A role-wide cut-off reaches this far past the broker's "now". */
const CUTOFF_SKEW_MS = 5_000;
const ROLE_CACHE_MS = 300_000;
const LOCK_POLL_MS = 25;

/**
 * Static keys when the broker's env carries them (tests hand the simulator's keys in this way, without
 * touching process.env); otherwise undefined, and the SDK's default chain finds credentials (env, shared
 * files, SSO, web identity, ECS/EC2 metadata). In production the env is process.env, so the two agree.
 */
function credentialsFrom(env: ProviderHost["env"]) {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

/** Parses each profile's session policy once, refusing at start one that cannot fit STS's limit. */
function profileEntries(profiles: Record<string, StsProfile>): Record<string, StsProfileEntry> {
  const entries: Record<string, StsProfileEntry> = {};
  for (const [name, profile] of Object.entries(profiles)) {
    let policy: StsProfileEntry["policy"];
    try {
      policy = parseSessionPolicy(profile.session_policy);
    } catch (err) {
      throw new Error(`profiles.${name}.${err instanceof Error ? err.message : String(err)}`);
    }
    // The deadline is always rendered at the same width, so any instant gives the size every issue will have.
    const size = boundSessionPolicy(policy, 0).length;
    if (size > SESSION_POLICY_MAX_CHARS) {
      throw new Error(
        `profiles.${name}.session_policy is ${size} characters once every Allow carries the task deadline; ` +
          `STS accepts at most ${SESSION_POLICY_MAX_CHARS}. Shorten it (wildcards, fewer statements) or split the profile.`,
      );
    }
    entries[name] = { profile, policy };
  }
  return entries;
}

/** SDK clients for STS and IAM from `providers.sts`. */
export function stsClients(
  cfg: StsProviderConfig,
  env: ProviderHost["env"],
): { sts: STSClient; iam: IAMClient } {
  const credentials = credentialsFrom(env);
  const base = {
    region: cfg.region,
    maxAttempts: cfg.max_attempts,
    // requestTimeout alone only logs a warning; throwOnRequestTimeout makes it fail the attempt.
    requestHandler: {
      connectionTimeout: cfg.timeout_ms,
      requestTimeout: cfg.timeout_ms,
      throwOnRequestTimeout: true,
    },
    ...(credentials ? { credentials } : {}),
  };
  return {
    sts: new STSClient({ ...base, ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}) }),
    iam: new IAMClient({ ...base, ...(cfg.iam_endpoint ? { endpoint: cfg.iam_endpoint } : {}) }),
  };
}

/** The AWS STS provider from `providers.sts` and the `provider: sts` profiles. */
export async function buildStsProvider(
  section: ProviderSection<StsProviderConfig, StsProfile>,
  host: ProviderHost,
): Promise<CredentialProvider> {
  return assembleStsProvider({
    config: section.config,
    profiles: section.profiles,
    redis: host.redis,
    keyPrefix: host.keyPrefix,
    now: host.now,
    ...stsClients(section.config, host.env),
  });
}

/**
 * The provider over given SDK clients (the builder makes them from config; a test may hand in clients with
 * a fault-injecting middleware). The provider owns the clients and destroys them on close.
 */
export function assembleStsProvider(deps: {
  config: StsProviderConfig;
  profiles: Record<string, StsProfile>;
  redis: ProviderHost["redis"];
  keyPrefix: string;
  now: () => number;
  sts: STSClient;
  iam: IAMClient;
}): CredentialProvider {
  const { config: cfg, redis, sts, iam, now } = deps;
  // A commit is a read and a write, each up to max_attempts × timeout: the lock must outlast it.
  const commitBudgetMs = Math.max(30_000, 4 * cfg.timeout_ms * cfg.max_attempts);
  return createStsProvider({
    sts,
    roles: createRoleDirectory({ iam, now, cacheMs: ROLE_CACHE_MS }),
    denies: createDenyPolicyStore({
      redis,
      keys: stsRedisKeys(deps.keyPrefix),
      lock: createRoleLock({ redis, ttlMs: commitBudgetMs }),
      policies: createRolePolicyApi({ iam, policyName: DENY_POLICY_NAME }),
      now,
      pruneMarginMs: PRUNE_MARGIN_MS,
      cutoffSkewMs: CUTOFF_SKEW_MS,
      lockWaitMs: commitBudgetMs,
      pollMs: LOCK_POLL_MS,
    }),
    profiles: profileEntries(deps.profiles),
    now,
    closeClients: () => {
      sts.destroy();
      iam.destroy();
    },
  });
}
