import { evaluate, parsePolicy, type RequestContext } from "./policy-eval.js";
import { ACCOUNT_ID, awsId, enforcedInline, type SimState, type SimTrust } from "./sim-state.js";

/** Roles of the simulator, and its data plane: whether AWS would honour a request made with issued keys. */

export interface CreateRoleOptions {
  name: string;
  path?: string;
  maxSessionDuration?: number;
  trust?: Partial<SimTrust>;
  /** The role's permissions policy (JSON); default allows every action on every resource. */
  permissions?: Record<string, unknown>;
}

const ALLOW_ALL = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

export function createSimRole(
  state: SimState,
  options: CreateRoleOptions,
): { name: string; arn: string; roleId: string } {
  const path = options.path ?? "/";
  const trust: SimTrust = {
    principals: "*",
    tagSession: true,
    setSourceIdentity: true,
    webIdentityIssuers: [],
    ...options.trust,
  };
  const role = {
    name: options.name,
    path,
    arn: `arn:aws:iam::${ACCOUNT_ID}:role${path}${options.name}`,
    roleId: awsId("AROA"),
    accountId: ACCOUNT_ID,
    maxSessionDuration: options.maxSessionDuration ?? 3600,
    createdAt: state.clock.now(),
    trust,
    permissions: parsePolicy(JSON.stringify(options.permissions ?? ALLOW_ALL)),
    inline: new Map(),
  };
  state.roles.set(options.name, role);
  return { name: role.name, arn: role.arn, roleId: role.roleId };
}

/**
 * Expiry, then the role's permissions and inline policies as the data plane sees them at `at` (after the
 * propagation delay), then the session policy. Condition keys are matched case-insensitively, as IAM does.
 */
export function dataPlaneAllows(
  state: SimState,
  accessKeyId: string,
  action: string,
  resource: string,
  at: number,
): boolean {
  const session = state.sessions.get(accessKeyId);
  if (!session || at < session.issuedAt || at >= session.expiresAt) return false;
  const role = [...state.roles.values()].find((r) => r.arn === session.roleArn);
  if (!role) return false;
  const keys: Record<string, string | undefined> = {
    "aws:userid": `${session.roleId}:${session.sessionName}`,
    "aws:sourceidentity": session.sourceIdentity,
    "aws:tokenissuetime": new Date(session.issuedAt).toISOString(),
    "aws:currenttime": new Date(at).toISOString(),
    "aws:principalarn": role.arn,
    "aws:principalaccount": role.accountId,
  };
  for (const [key, value] of Object.entries(session.tags))
    keys[`aws:principaltag/${key.toLowerCase()}`] = value;
  const request: RequestContext = { action, resource, keys };
  const identity = evaluate(
    [role.permissions, ...enforcedInline(role, at, state.propagationDelayMs)],
    request,
  );
  if (identity !== "allow") return false;
  return session.policy === undefined || evaluate([session.policy], request) === "allow";
}
