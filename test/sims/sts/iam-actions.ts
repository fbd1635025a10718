import { checkName, checkPolicyText } from "./param-rules.js";
import { parsePolicy, policySize } from "./policy-eval.js";
import { type QueryParams, required, SimError, validationError, type XmlNode } from "./query-wire.js";
import { currentInline, type SimRole, type SimState } from "./sim-state.js";

/**
 * IAM actions of the simulator, limited to what revocation needs: GetRole, PutRolePolicy, GetRolePolicy,
 * DeleteRolePolicy, ListRolePolicies. Documents come back URL-encoded, as IAM sends them.
 */

/** All of a role's inline policies together, white space not counted (reference/sts.md §3(c)). */
export const ROLE_INLINE_BUDGET = 10_240;
const POLICY_DOCUMENT_MAX = 131_072;

function roleOf(state: SimState, params: QueryParams): SimRole {
  const name = required(params, "RoleName");
  checkName(name, "RoleName", 1, 64);
  const role = state.roles.get(name);
  if (!role) throw new SimError("NoSuchEntity", 404, `The role with name ${name} cannot be found.`);
  return role;
}

function policyNameOf(params: QueryParams): string {
  const name = required(params, "PolicyName");
  checkName(name, "PolicyName", 1, 128);
  return name;
}

function noSuchPolicy(name: string): SimError {
  return new SimError("NoSuchEntity", 404, `The role policy with name ${name} cannot be found.`);
}

function trustDocument(role: SimRole): string {
  const principal =
    role.trust.principals === "*"
      ? { AWS: `arn:aws:iam::${role.accountId}:root` }
      : { AWS: role.trust.principals };
  const actions = ["sts:AssumeRole"];
  if (role.trust.tagSession) actions.push("sts:TagSession");
  if (role.trust.setSourceIdentity) actions.push("sts:SetSourceIdentity");
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: principal, Action: actions }],
  });
}

export function getRole(state: SimState, params: QueryParams): { [element: string]: XmlNode } {
  const role = roleOf(state, params);
  return {
    Role: {
      Path: role.path,
      RoleName: role.name,
      RoleId: role.roleId,
      Arn: role.arn,
      CreateDate: new Date(role.createdAt).toISOString(),
      AssumeRolePolicyDocument: encodeURIComponent(trustDocument(role)),
      MaxSessionDuration: role.maxSessionDuration,
    },
  };
}

export function putRolePolicy(state: SimState, params: QueryParams): null {
  const role = roleOf(state, params);
  const name = policyNameOf(params);
  const text = required(params, "PolicyDocument");
  checkPolicyText(text, "PolicyDocument", POLICY_DOCUMENT_MAX);
  const parsed = parsePolicy(text);
  let total = policySize(text);
  for (const other of role.inline.keys()) {
    if (other === name) continue;
    const otherText = currentInline(role, other);
    if (otherText !== undefined) total += policySize(otherText);
  }
  if (total > ROLE_INLINE_BUDGET)
    throw new SimError(
      "LimitExceeded",
      409,
      `Maximum policy size of ${ROLE_INLINE_BUDGET} bytes exceeded for role ${role.name}`,
    );
  const versions = role.inline.get(name) ?? [];
  versions.push({ text, parsed, writtenAt: state.clock.now() });
  role.inline.set(name, versions);
  return null;
}

export function getRolePolicy(state: SimState, params: QueryParams): { [element: string]: XmlNode } {
  const role = roleOf(state, params);
  const name = policyNameOf(params);
  const text = currentInline(role, name);
  if (text === undefined) throw noSuchPolicy(name);
  return { RoleName: role.name, PolicyName: name, PolicyDocument: encodeURIComponent(text) };
}

export function deleteRolePolicy(state: SimState, params: QueryParams): null {
  const role = roleOf(state, params);
  const name = policyNameOf(params);
  if (currentInline(role, name) === undefined) throw noSuchPolicy(name);
  role.inline.get(name)?.push({ text: null, parsed: null, writtenAt: state.clock.now() });
  return null;
}

export function listRolePolicies(state: SimState, params: QueryParams): { [element: string]: XmlNode } {
  const role = roleOf(state, params);
  const maxItems = Number(params.get("MaxItems") ?? "100");
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000)
    throw validationError(
      String(params.get("MaxItems")),
      "maxItems",
      "Member must have value between 1 and 1000",
    );
  const names = [...role.inline.keys()].filter((name) => currentInline(role, name) !== undefined).sort();
  const start = Number(params.get("Marker") ?? "0");
  const page = names.slice(start, start + maxItems);
  const truncated = start + maxItems < names.length;
  return {
    PolicyNames: page,
    IsTruncated: truncated,
    Marker: truncated ? String(start + maxItems) : undefined,
  };
}
