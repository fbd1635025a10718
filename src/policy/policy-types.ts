/** The eleven Cedar actions (`Credbroker::Action::"<name>"`) the broker asks the policy about. */
export type PolicyAction =
  | "OpenTask"
  | "DelegateTask"
  | "CloseTask"
  | "ReadTask"
  | "RequestCredential"
  | "Approve"
  | "EmergencyRevoke"
  | "ReadAudit"
  | "RotateKeys"
  | "Introspect"
  | "SubscribeSignals";

/** Every policy action, in schema order. */
export const POLICY_ACTIONS: readonly PolicyAction[] = [
  "OpenTask",
  "DelegateTask",
  "CloseTask",
  "ReadTask",
  "RequestCredential",
  "Approve",
  "EmergencyRevoke",
  "ReadAudit",
  "RotateKeys",
  "Introspect",
  "SubscribeSignals",
];

/**
 * A context value in Cedar's JSON form: Long is an integer `number`, Bool a `boolean`, a Set a JS array,
 * a record a plain object.
 */
export type CedarValue = string | number | boolean | CedarValue[] | { [key: string]: CedarValue };

/**
 * The caller, as the `Credbroker::Workload` entity, or as `Credbroker::ResourceServer` when
 * `resourceServer` is set (then `issuer` is `rs`, `subject` the client id, `kind` `resource_server`).
 */
export interface PolicyPrincipal {
  /** Principal id `<issuer name>:<sub>`. */
  id: string;
  /** Issuer name from the config. */
  issuer: string;
  /** The assertion's `sub`. */
  subject: string;
  /** Issuer kind: `kubernetes`, `github`, `gitlab`, `spiffe` or `oidc`. */
  kind: string;
  /** Normalised claims (docs/policy.md lists them per issuer kind); become the entity's tags. */
  tags: Record<string, string>;
  /** A resource server's declared audiences (its `audiences` attribute). */
  resourceServer?: { audiences: string[] };
}

/** The task an action is on, as the `Credbroker::Task` entity. */
export interface TaskResource {
  type: "Task";
  /** Task id. */
  id: string;
  attrs: { intent: string; initiator: string; owner: string; agent: string; depth: number };
  /** Task labels; become the entity's tags. */
  tags: Record<string, string>;
}

/** The credential profile asked for (or approved), as the `Credbroker::Profile` entity. */
export interface ProfileResource {
  type: "Profile";
  /** Profile name. */
  id: string;
  provider: string;
}

/** The broker itself (`Credbroker::Broker::"credbroker"`): the resource of operator actions. */
export interface BrokerResource {
  type: "Broker";
}

export type PolicyResource = TaskResource | ProfileResource | BrokerResource;

/**
 * One authorization question. The caller builds `context` to match the action's context in the schema
 * (src/policy/cedar-schema.ts); a mismatch is a programmer error and makes `authorize` throw.
 */
export interface PolicyRequest {
  action: PolicyAction;
  principal: PolicyPrincipal;
  resource: PolicyResource;
  context: Record<string, CedarValue>;
}

/**
 * The policy's answer. `policyIds` are the determining policies (empty for the default deny) and,
 * with `policySetHash`, go into the audit record.
 */
export type Decision =
  | {
      effect: "allow";
      policyIds: string[];
      /** Smallest `@max_ttl` among the determining permits; undefined when none carries one. */
      maxTtlSeconds: number | undefined;
      policySetHash: string;
    }
  | { effect: "deny"; policyIds: string[]; policySetHash: string }
  | {
      /** Only `@approval("required")` forbids stopped it, and it would be allowed once approved. */
      effect: "approval_required";
      policyIds: string[];
      policySetHash: string;
    };

export type DecisionEffect = Decision["effect"];
