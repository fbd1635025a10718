import { BackendRevokeError, type SimLease, type SimModel, UnknownDbRole } from "./vault-sim-model.js";
import { authBlock, callerOf, type SimRequest, type SimRoute } from "./vault-sim-token-routes.js";
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
  ttlCappedWarning,
} from "./vault-sim-wire.js";

/** The lease id from the body, else from the path form (`sys/leases/revoke/:lease_id`); the body wins. */
function leaseIdOf(request: SimRequest): string {
  const id = stringField(request.body, "lease_id") || (request.match[2] ?? "");
  if (id === "") throw badRequest("lease_id must be specified");
  return id;
}

/** Revokes through the backend; a backend failure keeps the lease (`failed to revoke entry`). */
function revokeOne(model: SimModel, lease: SimLease): void {
  try {
    model.revokeLease(lease);
  } catch (err) {
    if (!(err instanceof BackendRevokeError)) throw err;
    throw badRequest(`failed to revoke entry: resp: (*logical.Response)(nil) err: ${err.message}`);
  }
}

function revokePrefix(model: SimModel, request: SimRequest, force: boolean): SimReply {
  const prefix = request.match[2] ?? "";
  const exact = model.findLease(request.namespace, prefix);
  const matching = exact
    ? [exact]
    : [...model.leases.values()].filter((l) => l.namespace === request.namespace && l.id.startsWith(prefix));
  if (!force && !booleanField(request.body, "sync", true)) {
    for (const lease of matching) lease.expireTime = model.now();
    return { status: 202 };
  }
  for (const [index, lease] of matching.entries()) {
    try {
      model.revokeLease(lease, force);
    } catch (err) {
      if (!(err instanceof BackendRevokeError)) throw err;
      throw badRequest(`failed to revoke "${lease.id}" (${index + 1} / ${matching.length}): ${err.message}`);
    }
  }
  for (const token of [...model.tokens.values()]) {
    if (token.namespace === request.namespace && token.path.startsWith(prefix)) model.revokeToken(token.id);
  }
  return noContent();
}

function listLeases(model: SimModel, request: SimRequest): SimReply {
  const raw = request.match[1] ?? "";
  const prefix = raw === "" || raw.endsWith("/") ? raw : `${raw}/`;
  const keys = new Set<string>();
  for (const lease of model.leases.values()) {
    if (lease.namespace !== request.namespace || !lease.id.startsWith(prefix)) continue;
    const rest = lease.id.slice(prefix.length);
    const slash = rest.indexOf("/");
    keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
  }
  if (keys.size === 0) throw new SimHttpError(404, []);
  return envelope(request.path, { data: { keys: [...keys].sort() } });
}

/** `sys/leases/*` (with the legacy `sys/renew`, `sys/revoke*` aliases), database creds and AppRole login. */
export function sysRoutes(model: SimModel): SimRoute[] {
  const leaseRoute = (
    op: string,
    handle: SimRoute["handle"],
    options: { sudo?: boolean; legacy?: boolean; suffix?: string } = {},
  ): SimRoute => ({
    method: "POST",
    pattern: new RegExp(`^sys/(leases/)${options.legacy ? "?" : ""}${op}${options.suffix ?? "(?:/(.+))?"}$`),
    capability: "update",
    sudo: options.sudo ?? false,
    handle,
  });
  return [
    leaseRoute("lookup", (r) => {
      const lease = model.findLease(r.namespace, leaseIdOf(r));
      if (!lease) throw badRequest("invalid lease");
      return envelope(r.path, {
        data: {
          id: lease.id,
          issue_time: rfc3339(lease.issueTime),
          expire_time: rfc3339(lease.expireTime),
          last_renewal: lease.lastRenewal === null ? null : rfc3339(lease.lastRenewal),
          renewable: lease.renewable,
          ttl: model.secondsLeft(lease.expireTime),
        },
      });
    }),
    {
      method: "LIST",
      pattern: /^sys\/leases\/lookup\/?(.*)$/,
      capability: "list",
      sudo: true,
      handle: (r) => listLeases(model, r),
    },
    leaseRoute(
      "renew",
      (r) => {
        const id = leaseIdOf(r);
        if (id.startsWith("auth/")) throw badRequest("tokens cannot be renewed through this endpoint");
        const lease = model.findLease(r.namespace, id);
        if (!lease) throw badRequest("lease not found");
        if (!lease.renewable) throw badRequest("lease is not renewable");
        const increment = parseDuration(r.body.increment, "increment");
        const result = model.renewLease(lease, increment);
        const warnings = result.capped ? [ttlCappedWarning(increment ?? lease.defaultTtl, result.max)] : [];
        return envelope(r.path, {
          lease: { id: lease.id, duration: model.secondsLeft(lease.expireTime), renewable: true },
          warnings,
        });
      },
      { legacy: true },
    ),
    leaseRoute(
      "revoke",
      (r) => {
        const lease = model.findLease(r.namespace, leaseIdOf(r));
        if (!booleanField(r.body, "sync", true)) {
          if (lease) lease.expireTime = model.now();
          return { status: 202 };
        }
        if (lease) revokeOne(model, lease);
        return noContent();
      },
      { legacy: true },
    ),
    leaseRoute("revoke-prefix", (r) => revokePrefix(model, r, false), {
      sudo: true,
      legacy: true,
      suffix: "/(.+)",
    }),
    leaseRoute("revoke-force", (r) => revokePrefix(model, r, true), {
      sudo: true,
      legacy: true,
      suffix: "/(.+)",
    }),
    {
      method: "GET",
      pattern: /^database\/creds\/([^/]+)$/,
      capability: "read",
      handle: (r) => {
        let lease: SimLease;
        try {
          lease = model.createDbLease(r.namespace, r.match[1] ?? "", callerOf(r));
        } catch (err) {
          if (err instanceof UnknownDbRole) throw badRequest(err.message);
          throw err;
        }
        return envelope(r.path, {
          data: lease.data,
          lease: { id: lease.id, duration: model.secondsLeft(lease.expireTime), renewable: true },
          mountType: "database",
        });
      },
    },
    {
      method: "POST",
      pattern: /^auth\/approle\/login$/,
      capability: "none",
      handle: (r) => {
        const roleId = stringField(r.body, "role_id");
        if (roleId === "") throw badRequest("missing role_id");
        const found = [...model.appRoles.entries()].find(([, role]) => role.roleId === roleId);
        if (!found) throw badRequest("invalid role ID");
        const [name, role] = found;
        if (stringField(r.body, "secret_id") !== role.secretId) throw badRequest("invalid secret id");
        const token = model.createToken({
          namespace: r.namespace,
          policies: [...new Set([...role.policies, "default"])].sort(),
          displayName: "approle",
          meta: { role_name: name },
          parent: null,
          numUses: 0,
          path: "auth/approle/login",
          ttl: role.tokenTtl,
          explicitMaxTtl: role.tokenMaxTtl,
          renewable: true,
        });
        return envelope(r.path, { auth: authBlock(model, token) });
      },
    },
  ];
}

/** `sys/health` / `sys/seal-status` bodies; health answers 503 when sealed (as Vault does by default). */
export function healthReply(sealed: boolean): { status: number; body: Record<string, unknown> } {
  return {
    status: sealed ? 503 : 200,
    body: {
      initialized: true,
      sealed,
      standby: false,
      performance_standby: false,
      replication_dr_mode: "disabled",
      replication_performance_mode: "disabled",
      server_time_utc: Math.floor(Date.now() / 1000),
      version: "1.17.0+sim",
      cluster_name: "vault-sim",
      cluster_id: "00000000-0000-0000-0000-000000000000",
    },
  };
}
