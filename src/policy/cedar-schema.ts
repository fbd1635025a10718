/**
 * The Cedar schema every policy file is validated against (strict mode) and every request is checked
 * against. It is the contract for policy authors: names and types here are public (docs/policy.md).
 *
 * - `Workload` id is the principal id `<issuer name>:<sub>`; its tags are the issuer's normalised claims.
 * - `Profile` id is the profile name; `Task` id is the task id, its tags are the task labels.
 * - `Broker` is the singleton `Credbroker::Broker::"credbroker"`, the resource of operator actions.
 * - `ResourceServer` id is a `resource_servers[].client_id`; it carries the Workload attributes (issuer
 *   `rs`, subject = client id, kind `resource_server`, no tags) so policies that read them on any principal
 *   still validate, plus `audiences`. It is the principal of `Introspect` and `SubscribeSignals` only.
 * - `now` is epoch seconds; `TaskInfo.parent_id` is `""` for a root task.
 * - `HumanIdentity` fields are `""` when the issuer does not carry them; e-mail and username lowercased.
 */
export const CEDAR_SCHEMA = `namespace Credbroker {
  type TaskInfo = {
    id: String,
    intent: String,
    initiator: String,
    initiator_verified: Bool,
    owner: String,
    agent: String,
    depth: Long,
    remaining_seconds: Long,
    profiles: Set<String>,
    parent_id: String
  };

  type HumanIdentity = { issuer: String, subject: String, email: String, username: String };

  entity Workload = { issuer: String, subject: String, kind: String } tags String;
  entity ResourceServer = { issuer: String, subject: String, kind: String, audiences: Set<String> } tags String;
  entity Profile = { provider: String };
  entity Task = { intent: String, initiator: String, owner: String, agent: String, depth: Long } tags String;
  entity Broker;

  action OpenTask, DelegateTask, CloseTask, ReadTask appliesTo {
    principal: Workload,
    resource: Task,
    context: { task: TaskInfo, now: Long }
  };

  action RequestCredential appliesTo {
    principal: Workload,
    resource: Profile,
    context: {
      task: TaskInfo,
      profile: String,
      provider: String,
      ttl_seconds: Long,
      scopes: Set<String>,
      reason: String,
      approved: Bool,
      now: Long
    }
  };

  action Approve appliesTo {
    principal: Workload,
    resource: Profile,
    context: {
      task: TaskInfo,
      profile: String,
      provider: String,
      ttl_seconds: Long,
      scopes: Set<String>,
      reason: String,
      approved: Bool,
      now: Long,
      requester: String,
      requester_identity: HumanIdentity,
      approver_identity: HumanIdentity
    }
  };

  action EmergencyRevoke appliesTo {
    principal: Workload,
    resource: Broker,
    context: { selector_kind: String, selector_value: String, reason: String, dry_run: Bool, now: Long }
  };

  action ReadAudit, RotateKeys appliesTo {
    principal: Workload,
    resource: [Broker, Task],
    context: { now: Long }
  };

  action Introspect appliesTo {
    principal: [Workload, ResourceServer],
    resource: Profile,
    context: {
      audience: String,
      scopes: Set<String>,
      task_id: String,
      agent: String,
      caller_is_agent: Bool,
      now: Long
    }
  };

  action SubscribeSignals appliesTo {
    principal: [Workload, ResourceServer],
    resource: Broker,
    context: { audiences: Set<String>, delivery_method: String, endpoint_url: String, now: Long }
  };
}
`;

/** Name under which the schema is pre-parsed in cedar-wasm's cache. */
export const SCHEMA_NAME = "credbroker-schema-v1";

/** The Cedar namespace of every entity type and action. */
export const CEDAR_NAMESPACE = "Credbroker";

/** Entity id of the singleton broker entity (`Credbroker::Broker::"credbroker"`). */
export const BROKER_ENTITY_ID = "credbroker";
