import {
  checkLength,
  checkName,
  checkPolicyText,
  durationSeconds,
  roleNameOf,
  sessionTags,
  sourceIdentity,
} from "./param-rules.js";
import { parsePolicy } from "./policy-eval.js";
import {
  awsTime,
  type QueryParams,
  required,
  SimError,
  validationError,
  type XmlNode,
} from "./query-wire.js";
import {
  ACCOUNT_ID,
  awsId,
  type Caller,
  randomSecret,
  type SimRole,
  type SimSession,
  type SimState,
} from "./sim-state.js";

/** STS actions of the simulator: AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity. */

const SESSION_POLICY_MAX = 2048;
/** Role chaining (a role session assuming a role) is capped at one hour. */
const CHAINING_CAP_SECONDS = 3600;
/**
 * The packed-size denominator: the real algorithm is unpublished (§1.3), so the simulator approximates the
 * percentage from the minified policy plus the tag characters.
 */
const PACKED_UNIT_CHARS = 2400;

export const callerArn = (caller: Caller): string =>
  caller.kind === "user" ? caller.user.arn : caller.session.arn;

const denied = (who: string, action: string, resource: string): SimError =>
  new SimError(
    "AccessDenied",
    403,
    `User: ${who} is not authorized to perform: ${action} on resource: ${resource}`,
  );

interface SessionRequest {
  role: SimRole;
  sessionName: string;
  durationSeconds: number;
  policyText: string | undefined;
  tags: Record<string, string>;
  sourceIdentity: string | undefined;
}

function packedPercent(
  state: SimState,
  policyText: string | undefined,
  tags: Record<string, string>,
): number {
  const policyChars = policyText ? JSON.stringify(JSON.parse(policyText)).length : 0;
  const tagChars = Object.entries(tags).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
  const percent = Math.ceil(((policyChars + tagChars) * 100) / PACKED_UNIT_CHARS);
  if (state.packedPolicyTooLarge || percent > 100) {
    throw new SimError(
      "PackedPolicyTooLarge",
      400,
      `Packed policy consumes ${Math.max(percent, 101)}% of allotted space, please use smaller policy.`,
    );
  }
  return percent;
}

function sessionPolicy(params: QueryParams): string | undefined {
  const text = params.get("Policy");
  if (text === undefined) return undefined;
  checkPolicyText(text, "Policy", SESSION_POLICY_MAX);
  parsePolicy(text);
  return text;
}

function issue(state: SimState, request: SessionRequest): { session: SimSession; packed: number } {
  const { role } = request;
  if (request.durationSeconds > role.maxSessionDuration)
    throw new SimError(
      "ValidationError",
      400,
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
  const packed = packedPercent(state, request.policyText, request.tags);
  const issuedAt = state.clock.now();
  const session: SimSession = {
    accessKeyId: awsId("ASIA"),
    secretAccessKey: randomSecret(),
    sessionToken: `FwoGZXIvYXdzE${randomSecret()}${randomSecret()}`,
    roleArn: role.arn,
    roleId: role.roleId,
    sessionName: request.sessionName,
    arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${request.sessionName}`,
    sourceIdentity: request.sourceIdentity,
    tags: request.tags,
    policyText: request.policyText,
    policy: request.policyText === undefined ? undefined : parsePolicy(request.policyText),
    issuedAt,
    // STS reports whole seconds; the session ends at the reported instant.
    expiresAt: Math.floor((issuedAt + request.durationSeconds * 1000) / 1000) * 1000,
    durationSeconds: request.durationSeconds,
  };
  state.sessions.set(session.accessKeyId, session);
  return { session, packed };
}

function credentialsXml(session: SimSession): { [element: string]: XmlNode } {
  return {
    Credentials: {
      AccessKeyId: session.accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      SessionToken: session.sessionToken,
      Expiration: awsTime(session.expiresAt),
    },
    AssumedRoleUser: { AssumedRoleId: `${session.roleId}:${session.sessionName}`, Arn: session.arn },
  };
}

function roleFor(state: SimState, roleArn: string, who: string, action: string): SimRole {
  checkLength(roleArn, "RoleArn", 20, 2048);
  const name = roleNameOf(roleArn);
  const role = name === undefined ? undefined : state.roles.get(name);
  if (!role || role.arn !== roleArn) throw denied(who, action, roleArn);
  return role;
}

export function assumeRole(
  state: SimState,
  caller: Caller,
  params: QueryParams,
): { [element: string]: XmlNode } {
  const who = callerArn(caller);
  const roleArn = required(params, "RoleArn");
  const sessionName = required(params, "RoleSessionName");
  checkName(sessionName, "RoleSessionName", 2, 64);
  const duration = durationSeconds(params, 3600);
  const policyText = sessionPolicy(params);
  const tags = sessionTags(params);
  const source = sourceIdentity(params);
  const externalId = params.get("ExternalId");
  if (externalId !== undefined) {
    checkLength(externalId, "ExternalId", 2, 1224);
    if (!/^[\w+=,.@:/-]*$/.test(externalId))
      throw validationError(
        externalId,
        "externalId",
        "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*",
      );
  }

  const role = roleFor(state, roleArn, who, "sts:AssumeRole");
  const { trust } = role;
  if (trust.principals !== "*" && !trust.principals.includes(who))
    throw denied(who, "sts:AssumeRole", roleArn);
  if (trust.externalId !== undefined && trust.externalId !== externalId)
    throw denied(who, "sts:AssumeRole", roleArn);
  if (Object.keys(tags).length > 0 && !trust.tagSession) throw denied(who, "sts:TagSession", roleArn);
  if (source !== undefined && !trust.setSourceIdentity) throw denied(who, "sts:SetSourceIdentity", roleArn);
  if (caller.kind === "session" && duration > CHAINING_CAP_SECONDS)
    throw new SimError(
      "ValidationError",
      400,
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
  // A chained session keeps its source identity (it cannot be changed for the life of the chain).
  const inherited = caller.kind === "session" ? caller.session.sourceIdentity : undefined;
  if (inherited !== undefined && source !== undefined && source !== inherited)
    throw denied(who, "sts:SetSourceIdentity", roleArn);

  const { session, packed } = issue(state, {
    role,
    sessionName,
    durationSeconds: duration,
    policyText,
    tags,
    sourceIdentity: source ?? inherited,
  });
  return {
    ...credentialsXml(session),
    PackedPolicySize: packed,
    SourceIdentity: session.sourceIdentity,
  };
}

function decodeJwt(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  try {
    const payload: unknown = JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
    if (typeof payload === "object" && payload !== null && !Array.isArray(payload))
      return Object.fromEntries(Object.entries(payload));
  } catch {
    // Falls through to the AWS error below.
  }
  throw new SimError("InvalidIdentityToken", 400, "The ID Token provided is not a valid JWT.");
}

/** Session tags and source identity carried in the token (`https://aws.amazon.com/tags`). */
function tokenTags(claims: Record<string, unknown>): Record<string, string> {
  const block = claims["https://aws.amazon.com/tags"];
  if (typeof block !== "object" || block === null || !("principal_tags" in block)) return {};
  const principalTags = block.principal_tags;
  if (typeof principalTags !== "object" || principalTags === null) return {};
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(principalTags)) {
    const first: unknown = Array.isArray(value) ? value[0] : value;
    if (typeof first === "string") tags[key] = first;
  }
  return tags;
}

export async function assumeRoleWithWebIdentity(
  state: SimState,
  params: QueryParams,
): Promise<{ [element: string]: XmlNode }> {
  const roleArn = required(params, "RoleArn");
  const sessionName = required(params, "RoleSessionName");
  checkName(sessionName, "RoleSessionName", 2, 64);
  const token = required(params, "WebIdentityToken");
  checkLength(token, "WebIdentityToken", 4, 20_000);
  const duration = durationSeconds(params, 3600);
  const policyText = sessionPolicy(params);

  const claims = decodeJwt(token);
  const issuer = typeof claims.iss === "string" ? claims.iss : "";
  const provider = state.oidcProviders.get(issuer.replace(/^https:\/\//, ""));
  if (!provider)
    throw new SimError(
      "InvalidIdentityToken",
      400,
      `No OpenIDConnect provider found in your account for ${issuer}`,
    );
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const audience = audiences.find(
    (aud): aud is string => typeof aud === "string" && provider.audiences.includes(aud),
  );
  if (audience === undefined) throw new SimError("InvalidIdentityToken", 400, "Incorrect token audience");
  const now = state.clock.now();
  if (typeof claims.exp !== "number" || claims.exp * 1000 <= now)
    throw new SimError(
      "ExpiredTokenException",
      400,
      "Token expired: current date/time must be before the expiration date/time",
    );
  if (provider.verify) {
    await provider.verify(token).catch(() => {
      throw new SimError("InvalidIdentityToken", 400, "Couldn't verify the token's signature.");
    });
  }
  const role = roleFor(state, roleArn, "web-identity", "sts:AssumeRoleWithWebIdentity");
  if (!role.trust.webIdentityIssuers.includes(issuer))
    throw new SimError("AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity");
  const source = claims["https://aws.amazon.com/source_identity"];
  const { session, packed } = issue(state, {
    role,
    sessionName,
    durationSeconds: duration,
    policyText,
    tags: tokenTags(claims),
    sourceIdentity: typeof source === "string" ? source : undefined,
  });
  return {
    ...credentialsXml(session),
    PackedPolicySize: packed,
    SubjectFromWebIdentityToken: typeof claims.sub === "string" ? claims.sub : "",
    Provider: issuer.replace(/^https:\/\//, ""),
    Audience: audience,
    SourceIdentity: session.sourceIdentity,
  };
}

export function getCallerIdentity(caller: Caller): { [element: string]: XmlNode } {
  if (caller.kind === "user")
    return { UserId: caller.user.userId, Account: ACCOUNT_ID, Arn: caller.user.arn };
  const { session } = caller;
  return { UserId: `${session.roleId}:${session.sessionName}`, Account: ACCOUNT_ID, Arn: session.arn };
}
