import type { SimPolicy } from "./vault-sim-acl.js";
import { base62 } from "./vault-sim-wire.js";

/**
 * The simulator's state: tokens (a tree: revoking one revokes its children), leases owned by the token that
 * read them, and the database users those leases stand for. Time comes from an injectable clock; anything
 * past its expiry is swept away (revoked) before every request and every inspection, so tokens and leases
 * expire on their own exactly as an observer of a real Vault would see it.
 */

/** Vault's system defaults: 768 h default and max TTL. */
export const SYSTEM_MAX_TTL_SECONDS = 768 * 3600;

export interface SimToken {
  id: string;
  accessor: string;
  /** `""` is the root namespace. */
  namespace: string;
  policies: string[];
  /** As Vault stores it: `token-<sanitised name>`, or the auth method's name. */
  displayName: string;
  meta: Record<string, string> | null;
  /** Token id of the parent; null for orphans. */
  parent: string | null;
  /** Uses left; 0 = unlimited. */
  numUses: number;
  /** Created with a use limit (such a token may not create children). */
  limitedUses: boolean;
  path: string;
  issueTime: number;
  creationTtl: number;
  explicitMaxTtl: number;
  /** Epoch ms; null never expires (root tokens). */
  expireTime: number | null;
  /** Epoch ms the token can never be renewed beyond; null = no cap. */
  maxExpireTime: number | null;
  renewable: boolean;
}

export interface SimLease {
  id: string;
  namespace: string;
  /** The request path that created it, e.g. `database/creds/reports-ro`. */
  path: string;
  data: Record<string, unknown>;
  ownerToken: string;
  issueTime: number;
  expireTime: number;
  maxExpireTime: number;
  lastRenewal: number | null;
  renewable: boolean;
  /** Default TTL used when a renewal gives no increment. */
  defaultTtl: number;
  /** The database user this lease stands for, dropped on revocation. */
  dbUser?: string;
}

/** A database secrets-engine role (`database/roles/:name`): TTLs in seconds, 0 = system default. */
export interface DbRole {
  defaultTtl: number;
  maxTtl: number;
}

/** A backend that fails to revoke (the database is down, the user was already dropped by hand). */
export class BackendRevokeError extends Error {}

/** A token role (`auth/token/roles/:name`), the subset the simulator models. */
export interface TokenRole {
  allowedPolicies: string[];
  orphan: boolean;
  renewable: boolean;
}

/** One AppRole (`auth/approle/role/:name`) with its single valid secret id. */
export interface AppRole {
  roleId: string;
  secretId: string;
  policies: string[];
  tokenTtl: number;
  tokenMaxTtl: number;
}

export interface SimModelOptions {
  now: () => number;
  policies: Record<string, SimPolicy>;
  dbRoles: Record<string, DbRole>;
  tokenRoles: Record<string, TokenRole>;
  appRoles: Record<string, AppRole>;
}

export type SimModel = ReturnType<typeof createSimModel>;

/** The model behind the simulator's routes. */
export function createSimModel(options: SimModelOptions) {
  const { now } = options;
  const tokens = new Map<string, SimToken>();
  const byAccessor = new Map<string, string>();
  const leases = new Map<string, SimLease>();
  /** The downstream database: username → password. */
  const dbUsers = new Map<string, string>();
  const policies = new Map<string, SimPolicy>(Object.entries(options.policies));
  const dbRoles = new Map<string, DbRole>(Object.entries(options.dbRoles));
  const tokenRoles = new Map<string, TokenRole>(Object.entries(options.tokenRoles));
  const appRoles = new Map<string, AppRole>(Object.entries(options.appRoles));
  const namespaceIds = new Map<string, string>();
  const faults = { backendRevokeFailures: 0 };

  /** Vault appends `.<namespace id>` to accessors, tokens and lease ids outside the root namespace. */
  function nsSuffix(namespace: string): string {
    if (namespace === "") return "";
    let id = namespaceIds.get(namespace);
    if (!id) {
      id = base62(5);
      namespaceIds.set(namespace, id);
    }
    return `.${id}`;
  }

  function sweep(): void {
    const at = now();
    for (const token of [...tokens.values()]) {
      if (token.expireTime !== null && token.expireTime <= at && tokens.has(token.id)) revokeToken(token.id);
    }
    for (const lease of [...leases.values()]) {
      if (lease.expireTime <= at) dropLease(lease);
    }
  }

  function dropLease(lease: SimLease): void {
    leases.delete(lease.id);
    if (lease.dbUser) dbUsers.delete(lease.dbUser);
  }

  function createToken(spec: {
    namespace: string;
    policies: string[];
    displayName: string;
    meta: Record<string, string> | null;
    parent: string | null;
    numUses: number;
    path: string;
    ttl: number;
    explicitMaxTtl: number;
    renewable: boolean;
  }): SimToken {
    const issueTime = now();
    const suffix = nsSuffix(spec.namespace);
    const token: SimToken = {
      ...spec,
      limitedUses: spec.numUses > 0,
      id: `hvs.${base62(24)}${suffix}`,
      accessor: `${base62(24)}${suffix}`,
      issueTime,
      creationTtl: spec.ttl,
      expireTime: spec.ttl > 0 ? issueTime + spec.ttl * 1000 : null,
      maxExpireTime: spec.ttl > 0 ? issueTime + (spec.explicitMaxTtl || SYSTEM_MAX_TTL_SECONDS) * 1000 : null,
    };
    tokens.set(token.id, token);
    byAccessor.set(token.accessor, token.id);
    return token;
  }

  /** A live token, only from the namespace it was created in. */
  function findToken(namespace: string, id: string): SimToken | undefined {
    const token = tokens.get(id);
    return token && token.namespace === namespace ? token : undefined;
  }

  function findByAccessor(namespace: string, accessor: string): SimToken | undefined {
    const id = byAccessor.get(accessor);
    return id === undefined ? undefined : findToken(namespace, id);
  }

  /** Revokes the token, every descendant (depth-first) and every lease any of them owns. */
  function revokeToken(id: string): void {
    const token = tokens.get(id);
    if (!token) return;
    for (const child of [...tokens.values()]) if (child.parent === id) revokeToken(child.id);
    tokens.delete(id);
    byAccessor.delete(token.accessor);
    for (const lease of [...leases.values()]) if (lease.ownerToken === id) dropLease(lease);
  }

  /** Counts one use of a token with limited uses; the last use revokes it once the request is done. */
  function useToken(token: SimToken): () => void {
    if (token.numUses === 0) return () => {};
    token.numUses -= 1;
    return token.numUses === 0 ? () => revokeToken(token.id) : () => {};
  }

  /** Remaining seconds, rounded the way Vault reports `ttl` / `lease_duration`. */
  const secondsLeft = (expireTime: number | null): number =>
    expireTime === null ? 0 : Math.max(0, Math.round((expireTime - now()) / 1000));

  /** Extends (or shortens) a token's TTL to `increment` from now, capped by its max. */
  function renewToken(token: SimToken, increment: number): { capped: boolean; max: number } {
    const at = now();
    const wanted = at + increment * 1000;
    const cap = token.maxExpireTime ?? wanted;
    token.expireTime = Math.min(wanted, cap);
    return { capped: wanted > cap, max: Math.round((cap - at) / 1000) };
  }

  /** `database/creds/:role`: a fresh user per call, TTL = role default capped by role max. */
  function createDbLease(namespace: string, roleName: string, owner: SimToken): SimLease {
    const role = dbRoles.get(roleName);
    if (!role) throw new UnknownDbRole(roleName);
    const issueTime = now();
    const max = role.maxTtl || SYSTEM_MAX_TTL_SECONDS;
    const ttl = Math.min(role.defaultTtl || SYSTEM_MAX_TTL_SECONDS, max);
    const display = owner.displayName.slice(0, 8);
    const username =
      `v-${display}-${roleName.slice(0, 8)}-${base62(20)}-${Math.floor(issueTime / 1000)}`.slice(0, 63);
    const password = `A1a-${base62(20)}`;
    const path = `database/creds/${roleName}`;
    const lease: SimLease = {
      id: `${path}/${base62(24)}${nsSuffix(namespace)}`,
      namespace,
      path,
      data: { username, password },
      ownerToken: owner.id,
      issueTime,
      expireTime: issueTime + ttl * 1000,
      maxExpireTime: issueTime + max * 1000,
      lastRenewal: null,
      renewable: true,
      defaultTtl: ttl,
      dbUser: username,
    };
    leases.set(lease.id, lease);
    dbUsers.set(username, password);
    return lease;
  }

  function findLease(namespace: string, id: string): SimLease | undefined {
    const lease = leases.get(id);
    return lease && lease.namespace === namespace ? lease : undefined;
  }

  /** `increment` is measured from now and may shorten the lease; capped by the lease's max TTL. */
  function renewLease(lease: SimLease, increment: number | undefined): { capped: boolean; max: number } {
    const at = now();
    const wanted = at + (increment ?? lease.defaultTtl) * 1000;
    lease.expireTime = Math.min(wanted, lease.maxExpireTime);
    lease.lastRenewal = at;
    return { capped: wanted > lease.maxExpireTime, max: Math.round((lease.maxExpireTime - at) / 1000) };
  }

  /** Runs the backend's revocation (drop the user); `force` forgets the lease even if the backend fails. */
  function revokeLease(lease: SimLease, force = false): void {
    if (faults.backendRevokeFailures > 0 && !force) {
      faults.backendRevokeFailures -= 1;
      throw new BackendRevokeError(`pq: could not connect to server: connection refused`);
    }
    dropLease(lease);
  }

  return {
    now,
    tokens,
    leases,
    dbUsers,
    policies,
    dbRoles,
    tokenRoles,
    appRoles,
    faults,
    sweep,
    createToken,
    findToken,
    findByAccessor,
    revokeToken,
    useToken,
    secondsLeft,
    renewToken,
    createDbLease,
    findLease,
    renewLease,
    revokeLease,
  };
}

export class UnknownDbRole extends Error {
  constructor(readonly role: string) {
    super(`unknown role: ${role}`);
  }
}

/** Vault's display-name rule (`token_store.go`): `token-` + name, non-alphanumerics to `-`, no trailing `-`. */
export function tokenDisplayName(requested: string): string {
  if (requested === "") return "token";
  return `token-${requested}`.replace(/[^a-zA-Z0-9-]/g, "-").replace(/-$/, "");
}
