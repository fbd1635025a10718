import { GetRoleCommand, type IAMClient } from "@aws-sdk/client-iam";
import { PermanentProviderError } from "../provider-errors.js";
import { classifyAwsError } from "./sts-errors.js";

/**
 * What the provider needs to know about a role, from IAM GetRole: its id (the `aws:userid` prefix of its
 * sessions) and MaxSessionDuration (the ceiling for DurationSeconds). Cached per process; a role's id never
 * changes, and a lowered MaxSessionDuration is picked up within the cache period.
 */
export interface RoleInfo {
  arn: string;
  name: string;
  /** `AROA…`. */
  roleId: string;
  maxSessionDurationSeconds: number;
}

export interface RoleDirectory {
  /** Throws TransientProviderError or PermanentProviderError (e.g. NoSuchEntity, AccessDenied). */
  lookup(roleArn: string): Promise<RoleInfo>;
}

/** The role name is the last segment of `arn:aws:iam::<acct>:role/<path/>name`. */
export function roleNameOf(roleArn: string): string {
  const resource = roleArn.split(":").slice(5).join(":");
  return resource.split("/").at(-1) ?? resource;
}

export function createRoleDirectory(deps: {
  iam: Pick<IAMClient, "send">;
  /** Epoch ms. */
  now: () => number;
  cacheMs: number;
}): RoleDirectory {
  const cache = new Map<string, { info: RoleInfo; until: number }>();
  const inFlight = new Map<string, Promise<RoleInfo>>();

  async function fetchRole(roleArn: string): Promise<RoleInfo> {
    const name = roleNameOf(roleArn);
    let role: { RoleId?: string; Arn?: string; MaxSessionDuration?: number } | undefined;
    try {
      role = (await deps.iam.send(new GetRoleCommand({ RoleName: name }))).Role;
    } catch (err) {
      throw classifyAwsError(err, `IAM GetRole ${name}`);
    }
    if (!role?.RoleId || role.Arn !== roleArn) {
      // IAM is per account: the broker's credentials must belong to the role's account to deny its sessions.
      throw new PermanentProviderError(
        `IAM GetRole ${name} answered ${role?.Arn ?? "no role"}, not ${roleArn}: the broker's AWS credentials are in another account`,
      );
    }
    const info: RoleInfo = {
      arn: roleArn,
      name,
      roleId: role.RoleId,
      maxSessionDurationSeconds: role.MaxSessionDuration ?? 3600,
    };
    cache.set(roleArn, { info, until: deps.now() + deps.cacheMs });
    return info;
  }

  return {
    lookup(roleArn) {
      const cached = cache.get(roleArn);
      if (cached && cached.until > deps.now()) return Promise.resolve(cached.info);
      const pending = inFlight.get(roleArn) ?? fetchRole(roleArn).finally(() => inFlight.delete(roleArn));
      inFlight.set(roleArn, pending);
      return pending;
    },
  };
}
