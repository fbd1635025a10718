import { type Capability, capabilitiesOn } from "./vault-sim-acl.js";
import { type SimModel, type SimToken, SYSTEM_MAX_TTL_SECONDS, tokenDisplayName } from "./vault-sim-model.js";
import {
  badRequest,
  booleanField,
  envelope,
  noContent,
  parseDuration,
  rfc3339,
  SimHttpError,
  type SimReply,
  stringField,
  stringList,
  ttlCappedWarning,
} from "./vault-sim-wire.js";

/** What a route handler sees: the path relative to the namespace, the parsed body, the caller's token. */
export interface SimRequest {
  path: string;
  match: RegExpMatchArray;
  body: Record<string, unknown>;
  namespace: string;
  /** The authenticated caller; null only on unauthenticated routes. */
  caller: SimToken | null;
}

export interface SimRoute {
  method: "GET" | "POST" | "LIST";
  /** Matched against the whole relative path. */
  pattern: RegExp;
  /** What the caller's policies must grant on the path; `none` for unauthenticated routes (logins, health). */
  capability: Capability | "none";
  sudo?: boolean;
  handle(request: SimRequest): SimReply;
}

export function callerOf(request: SimRequest): SimToken {
  if (!request.caller) throw new Error("route needs an authenticated caller");
  return request.caller;
}

/** The `auth` block of a token response (`HTTPAuth`). */
export function authBlock(model: SimModel, token: SimToken, clientToken = token.id): Record<string, unknown> {
  return {
    client_token: clientToken,
    accessor: token.accessor,
    policies: token.policies,
    token_policies: token.policies,
    metadata: token.meta,
    lease_duration: model.secondsLeft(token.expireTime),
    renewable: token.renewable,
    entity_id: "",
    token_type: "service",
    orphan: token.parent === null,
    mfa_requirement: null,
    num_uses: token.numUses,
  };
}

function lookupData(model: SimModel, token: SimToken, withId: boolean): Record<string, unknown> {
  return {
    accessor: token.accessor,
    creation_time: Math.floor(token.issueTime / 1000),
    creation_ttl: token.creationTtl,
    display_name: token.displayName,
    entity_id: "",
    expire_time: token.expireTime === null ? null : rfc3339(token.expireTime),
    explicit_max_ttl: token.explicitMaxTtl,
    id: withId ? token.id : "",
    issue_time: rfc3339(token.issueTime),
    meta: token.meta,
    num_uses: token.numUses,
    orphan: token.parent === null,
    path: token.path,
    policies: token.policies,
    renewable: token.renewable,
    ttl: model.secondsLeft(token.expireTime),
    type: "service",
  };
}

function metaOf(value: unknown): Record<string, string> | null {
  if (typeof value !== "object" || value === null) return null;
  const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string");
  return entries.length > 0 ? Object.fromEntries(entries) : null;
}

type CreateKind = { kind: "create" } | { kind: "orphan" } | { kind: "role"; role: string };

/** `auth/token/create`, `create-orphan`, `create/:role` with Vault's checks (`handleCreateCommon`). */
function createToken(model: SimModel, request: SimRequest, how: CreateKind): SimReply {
  const caller = callerOf(request);
  const { body } = request;
  const isRoot = caller.policies.includes("root");
  const isSudo = isRoot || capabilitiesOn(model.policies, caller.policies, request.path).has("sudo");
  const role = how.kind === "role" ? model.tokenRoles.get(how.role) : undefined;
  if (how.kind === "role" && !role) throw badRequest(`unknown role ${how.role}`);
  if (caller.limitedUses) throw badRequest("restricted use token cannot generate child tokens");
  const noParent = booleanField(body, "no_parent", false);
  if (noParent && !isSudo) throw badRequest("root or sudo privileges required to create orphan token");
  if (body.period !== undefined && !isSudo)
    throw badRequest("root or sudo privileges required to create periodic token");
  if (body.type === "batch") throw badRequest("the simulator does not model batch tokens");
  const numUses = typeof body.num_uses === "number" ? body.num_uses : Number(body.num_uses ?? 0);
  if (numUses < 0) throw badRequest("number of uses cannot be negative");

  const requested = stringList(body.policies);
  let policies: string[];
  if (role && role.allowedPolicies.length > 0) {
    policies = requested.length > 0 ? requested : role.allowedPolicies;
    const outside = policies.filter((p) => p !== "default" && !role.allowedPolicies.includes(p));
    if (outside.length > 0) {
      throw badRequest(
        `token policies (${JSON.stringify(policies)}) must be subset of the role's allowed policies (${JSON.stringify(role.allowedPolicies)})`,
      );
    }
  } else if (requested.length === 0) {
    policies = caller.policies.filter((p) => p !== "root" || isRoot);
  } else {
    if (requested.includes("root") && !isRoot)
      throw badRequest("root tokens may not be created without parent token being root");
    if (!isSudo && requested.some((p) => p !== "default" && !caller.policies.includes(p)))
      throw badRequest("child policies must be subset of parent");
    policies = requested;
  }
  if (!booleanField(body, "no_default_policy", false) && !policies.includes("root")) policies.push("default");
  policies = [...new Set(policies)].sort();
  const warnings = policies
    .filter((p) => p !== "default" && p !== "root" && !model.policies.has(p))
    .map((p) => `Policy "${p}" does not exist`);

  const explicitMaxTtl = parseDuration(body.explicit_max_ttl, "explicit_max_ttl") ?? 0;
  const max = Math.min(explicitMaxTtl || SYSTEM_MAX_TTL_SECONDS, SYSTEM_MAX_TTL_SECONDS);
  const requestedTtl = parseDuration(body.ttl ?? body.lease, "ttl");
  if (requestedTtl !== undefined && requestedTtl < 0) throw badRequest("ttl must be positive");
  const rootForever = policies.includes("root") && requestedTtl === undefined;
  let ttl = requestedTtl ?? (rootForever ? 0 : SYSTEM_MAX_TTL_SECONDS);
  if (ttl > max) {
    warnings.push(ttlCappedWarning(ttl, max));
    ttl = max;
  }
  const orphan = how.kind === "orphan" || noParent || (role?.orphan ?? false);
  const token = model.createToken({
    namespace: request.namespace,
    policies,
    displayName: tokenDisplayName(stringField(body, "display_name")),
    meta: metaOf(body.meta),
    parent: orphan ? null : caller.id,
    numUses,
    path: how.kind === "role" ? `auth/token/create/${how.role}` : request.path,
    ttl,
    explicitMaxTtl,
    renewable: booleanField(body, "renewable", true) && (role?.renewable ?? true),
  });
  return envelope(request.path, { auth: authBlock(model, token), warnings });
}

function renew(model: SimModel, request: SimRequest, token: SimToken, clientToken: string): SimReply {
  if (!token.renewable || token.expireTime === null) throw badRequest("lease is not renewable");
  const increment = parseDuration(request.body.increment, "increment") ?? token.creationTtl;
  const result = model.renewToken(token, increment);
  const warnings = result.capped ? [ttlCappedWarning(increment, result.max)] : [];
  return envelope(request.path, { auth: authBlock(model, token, clientToken), warnings });
}

function byAccessor(model: SimModel, request: SimRequest): SimToken {
  const accessor = stringField(request.body, "accessor");
  if (accessor === "") throw badRequest("missing accessor");
  const token = model.findByAccessor(request.namespace, accessor);
  if (!token) throw badRequest("invalid accessor");
  return token;
}

/** The token auth method's routes. */
export function tokenRoutes(model: SimModel): SimRoute[] {
  const post = (pattern: RegExp, handle: SimRoute["handle"], sudo = false): SimRoute => ({
    method: "POST",
    pattern,
    capability: "update",
    sudo,
    handle,
  });
  return [
    post(/^auth\/token\/create$/, (r) => createToken(model, r, { kind: "create" })),
    post(/^auth\/token\/create-orphan$/, (r) => createToken(model, r, { kind: "orphan" })),
    post(/^auth\/token\/create\/([^/]+)$/, (r) =>
      createToken(model, r, { kind: "role", role: r.match[1] ?? "" }),
    ),
    {
      method: "GET",
      pattern: /^auth\/token\/lookup-self$/,
      capability: "read",
      handle: (r) => envelope(r.path, { data: lookupData(model, callerOf(r), true) }),
    },
    post(/^auth\/token\/lookup$/, (r) => {
      const token = model.findToken(r.namespace, stringField(r.body, "token"));
      if (!token) throw new SimHttpError(403, ["bad token"]);
      return envelope(r.path, { data: lookupData(model, token, true) });
    }),
    post(/^auth\/token\/lookup-accessor$/, (r) =>
      envelope(r.path, { data: lookupData(model, byAccessor(model, r), false) }),
    ),
    post(/^auth\/token\/renew-self$/, (r) => renew(model, r, callerOf(r), callerOf(r).id)),
    post(/^auth\/token\/renew$/, (r) => {
      const token = model.findToken(r.namespace, stringField(r.body, "token"));
      if (!token) throw badRequest("invalid lease ID");
      return renew(model, r, token, token.id);
    }),
    post(/^auth\/token\/renew-accessor$/, (r) => renew(model, r, byAccessor(model, r), "")),
    post(/^auth\/token\/revoke$/, (r) => {
      const token = model.findToken(r.namespace, stringField(r.body, "token"));
      if (token) model.revokeToken(token.id);
      return noContent();
    }),
    post(/^auth\/token\/revoke-self$/, (r) => {
      model.revokeToken(callerOf(r).id);
      return noContent();
    }),
    post(/^auth\/token\/revoke-accessor$/, (r) => {
      model.revokeToken(byAccessor(model, r).id);
      return noContent();
    }),
    post(
      /^auth\/token\/revoke-orphan$/,
      (r) => {
        const token = model.findToken(r.namespace, stringField(r.body, "token"));
        if (!token) return noContent();
        for (const child of model.tokens.values()) if (child.parent === token.id) child.parent = null;
        model.revokeToken(token.id);
        return noContent();
      },
      true,
    ),
    {
      method: "LIST",
      pattern: /^auth\/token\/accessors\/?$/,
      capability: "list",
      sudo: true,
      handle: (r) => {
        const keys = [...model.tokens.values()]
          .filter((t) => t.namespace === r.namespace)
          .map((t) => t.accessor);
        if (keys.length === 0) throw new SimHttpError(404, []);
        return envelope(r.path, { data: { keys } });
      },
    },
  ];
}
