import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { deleteRolePolicy, getRole, getRolePolicy, listRolePolicies, putRolePolicy } from "./iam-actions.js";
import {
  accessKeyOf,
  errorResponse,
  IAM_NAMESPACE,
  IAM_VERSION,
  parseQuery,
  type QueryParams,
  SimError,
  STS_NAMESPACE,
  STS_VERSION,
  successResponse,
  type WireResponse,
  type XmlNode,
} from "./query-wire.js";
import { type CreateRoleOptions, createSimRole, dataPlaneAllows } from "./sim-roles.js";
import {
  ACCOUNT_ID,
  awsId,
  type Caller,
  currentInline,
  randomSecret,
  type SimClock,
  type SimSession,
  type SimState,
  type SimUser,
} from "./sim-state.js";
import { assumeRole, assumeRoleWithWebIdentity, callerArn, getCallerIdentity } from "./sts-actions.js";

/**
 * A loopback STS + IAM simulator speaking the Query protocol, so the real `@aws-sdk/client-sts` and
 * `@aws-sdk/client-iam` run against it unchanged (reference/sts.md §6). STS and IAM share one endpoint and
 * are told apart by the `Version` parameter. `isAllowed` models the data plane: would AWS honour a request
 * made with issued credentials, given expiry, the session policy and the role's inline Deny statements.
 */

export type { CreateRoleOptions };

export interface StsSimOptions {
  clock?: SimClock;
  /** How long an inline-policy write takes to reach the data plane (default 0). */
  propagationDelayMs?: number;
}

export interface SimCall {
  service: "sts" | "iam";
  action: string;
  status: number;
  at: number;
}

interface FaultRule {
  actions: readonly string[] | undefined;
  remaining: number;
  error: SimError;
}

export interface StsSim {
  /** Endpoint for both clients, e.g. `http://127.0.0.1:4599/`. */
  readonly url: string;
  /** Long-term keys of the user the broker signs with. */
  readonly brokerUser: SimUser;
  readonly clock: SimClock;
  readonly calls: readonly SimCall[];
  createRole(options: CreateRoleOptions): { name: string; arn: string; roleId: string };
  addUser(name: string): SimUser;
  registerOidcProvider(
    issuer: string,
    audiences: readonly string[],
    verify?: (token: string) => Promise<void>,
  ): void;
  /** Whether AWS would honour `action` on `resource` signed with this access key at `at` (default: now). */
  isAllowed(accessKeyId: string, action: string, resource: string, at?: number): boolean;
  session(accessKeyId: string): SimSession | undefined;
  /** A role's inline policy as IAM's control plane holds it now (decoded), or undefined. */
  inlinePolicy(roleName: string, policyName: string): string | undefined;
  /** The next `count` calls (optionally only of `actions`) fail with `code` (default InternalFailure, 500). */
  failNext(count: number, options?: { actions?: readonly string[]; code?: string; status?: number }): void;
  /** The next `count` calls (optionally only of `actions`) answer `Throttling: Rate exceeded` (400). */
  throttle(count: number, options?: { actions?: readonly string[] }): void;
  /** The broker user is refused these actions (AccessDenied, 403) until cleared with `[]`. */
  denyActions(actions: readonly string[]): void;
  /** STS answers RegionDisabledException (403) while set. */
  setRegionDisabled(disabled: boolean): void;
  /** Delays every response (to exercise client timeouts). */
  setResponseDelay(ms: number): void;
  setPropagationDelay(ms: number): void;
  setPackedPolicyTooLarge(on: boolean): void;
  clearFaults(): void;
  close(): Promise<void>;
}

type Handler = (caller: Caller | null, params: QueryParams) => Promise<{ [element: string]: XmlNode } | null>;

export async function startStsSim(options: StsSimOptions = {}): Promise<StsSim> {
  const clock = options.clock ?? { now: () => Date.now() };
  const state: SimState = {
    clock,
    roles: new Map(),
    users: new Map(),
    sessions: new Map(),
    oidcProviders: new Map(),
    propagationDelayMs: options.propagationDelayMs ?? 0,
    packedPolicyTooLarge: false,
  };
  const calls: SimCall[] = [];
  let faults: FaultRule[] = [];
  let deniedActions = new Set<string>();
  let regionDisabled = false;
  let responseDelayMs = 0;

  function addUser(name: string): SimUser {
    const user = {
      arn: `arn:aws:iam::${ACCOUNT_ID}:user/${name}`,
      userId: awsId("AIDA"),
      accessKeyId: awsId("AKIA"),
      secretAccessKey: randomSecret(),
    };
    state.users.set(user.accessKeyId, user);
    return user;
  }
  const brokerUser = addUser("credbroker");

  const withCaller =
    (fn: (caller: Caller, params: QueryParams) => { [element: string]: XmlNode } | null): Handler =>
    async (caller, params) => {
      if (!caller)
        throw new SimError("MissingAuthenticationToken", 403, "Request is missing Authentication Token");
      return fn(caller, params);
    };
  const iam = (
    fn: (state: SimState, params: QueryParams) => { [element: string]: XmlNode } | null,
  ): Handler => withCaller((_caller, params) => fn(state, params));
  const handlers: Record<"sts" | "iam", Record<string, Handler>> = {
    sts: {
      AssumeRole: withCaller((caller, params) => assumeRole(state, caller, params)),
      AssumeRoleWithWebIdentity: async (_caller, params) => assumeRoleWithWebIdentity(state, params),
      GetCallerIdentity: withCaller((caller) => getCallerIdentity(caller)),
    },
    iam: {
      GetRole: iam(getRole),
      PutRolePolicy: iam(putRolePolicy),
      GetRolePolicy: iam(getRolePolicy),
      DeleteRolePolicy: iam(deleteRolePolicy),
      ListRolePolicies: iam(listRolePolicies),
    },
  };

  function identify(req: IncomingMessage): Caller | null {
    const accessKeyId = accessKeyOf(req.headers.authorization);
    if (accessKeyId === undefined) return null;
    const user = state.users.get(accessKeyId);
    if (user) return { kind: "user", user };
    const session = state.sessions.get(accessKeyId);
    if (!session || req.headers["x-amz-security-token"] !== session.sessionToken)
      throw new SimError(
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid.",
      );
    if (clock.now() >= session.expiresAt)
      throw new SimError("ExpiredToken", 403, "The security token included in the request is expired");
    return { kind: "session", session };
  }

  function injectedFault(action: string): SimError | undefined {
    const rule = faults.find((f) => f.remaining > 0 && (!f.actions || f.actions.includes(action)));
    if (!rule) return undefined;
    rule.remaining--;
    return rule.error;
  }

  function authorize(
    service: "sts" | "iam",
    action: string,
    caller: Caller | null,
    params: QueryParams,
  ): void {
    if (!caller) return;
    const qualified = `${service}:${action}`;
    const resource =
      params.get("RoleArn") ?? `arn:aws:iam::${ACCOUNT_ID}:role/${params.get("RoleName") ?? "*"}`;
    const refused =
      caller.kind === "user"
        ? deniedActions.has(action) || deniedActions.has(qualified)
        : service === "iam" && !isAllowed(caller.session.accessKeyId, qualified, resource);
    if (refused) {
      throw new SimError(
        "AccessDenied",
        403,
        `User: ${callerArn(caller)} is not authorized to perform: ${qualified} on resource: ${resource} ` +
          `because no identity-based policy allows the ${qualified} action`,
      );
    }
  }

  async function dispatch(
    req: IncomingMessage,
    body: string,
  ): Promise<{ service: "sts" | "iam"; action: string; response: WireResponse }> {
    const params = parseQuery(body);
    const service = params.get("Version") === IAM_VERSION ? "iam" : "sts";
    const namespace = service === "iam" ? IAM_NAMESPACE : STS_NAMESPACE;
    const action = params.get("Action") ?? "";
    try {
      if (req.method !== "POST") throw new SimError("InvalidAction", 400, "The simulator accepts POST only.");
      const version = params.get("Version");
      const handler = handlers[service][action];
      if (!handler || (version !== STS_VERSION && version !== IAM_VERSION))
        throw new SimError(
          "InvalidAction",
          400,
          `Could not find operation ${action} for version ${version ?? "NO_VERSION_SPECIFIED"}`,
        );
      if (service === "sts" && regionDisabled)
        throw new SimError(
          "RegionDisabledException",
          403,
          `STS is not activated in this region for account:${ACCOUNT_ID}. Your account administrator can activate STS in this region using the IAM Console.`,
        );
      const fault = injectedFault(action);
      if (fault) throw fault;
      const caller = action === "AssumeRoleWithWebIdentity" ? null : identify(req);
      authorize(service, action, caller, params);
      const result = await handler(caller, params);
      return { service, action, response: successResponse(action, namespace, result) };
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      return { service, action, response: errorResponse(err, namespace) };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const { service, action, response } = await dispatch(req, Buffer.concat(chunks).toString("utf8"));
    calls.push({ service, action, status: response.status, at: clock.now() });
    if (responseDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, responseDelayMs));
    if (res.destroyed) return;
    res.writeHead(response.status, { "content-type": "text/xml", "x-amzn-requestid": response.requestId });
    res.end(response.body);
  }

  const isAllowed = (accessKeyId: string, action: string, resource: string, at = clock.now()): boolean =>
    dataPlaneAllows(state, accessKeyId, action, resource, at);

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(err instanceof Error ? err.message : String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    brokerUser,
    clock,
    calls,
    createRole: (role) => createSimRole(state, role),
    addUser,
    registerOidcProvider(issuer, audiences, verify) {
      state.oidcProviders.set(issuer.replace(/^https:\/\//, ""), { audiences, verify });
    },
    isAllowed,
    session: (accessKeyId) => state.sessions.get(accessKeyId),
    inlinePolicy(roleName, policyName) {
      const role = state.roles.get(roleName);
      return role ? currentInline(role, policyName) : undefined;
    },
    failNext(count, opts = {}) {
      const message =
        opts.code === undefined
          ? "We encountered an internal error. Please try again."
          : `Injected ${opts.code}`;
      faults.push({
        actions: opts.actions,
        remaining: count,
        error: new SimError(opts.code ?? "InternalFailure", opts.status ?? 500, message),
      });
    },
    throttle(count, opts = {}) {
      faults.push({
        actions: opts.actions,
        remaining: count,
        error: new SimError("Throttling", 400, "Rate exceeded"),
      });
    },
    denyActions(actions) {
      deniedActions = new Set(actions);
    },
    setRegionDisabled(disabled) {
      regionDisabled = disabled;
    },
    setResponseDelay(ms) {
      responseDelayMs = ms;
    },
    setPropagationDelay(ms) {
      state.propagationDelayMs = ms;
    },
    setPackedPolicyTooLarge(on) {
      state.packedPolicyTooLarge = on;
    },
    clearFaults() {
      faults = [];
      deniedActions = new Set();
      regionDisabled = false;
      responseDelayMs = 0;
      state.packedPolicyTooLarge = false;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
