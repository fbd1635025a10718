/**
 * The policy most integration tests run under: workloads of issuer "ci" may run tasks and get signer
 * credentials, and introspect the tokens issued to them; "ci:operator" has the operator powers and may
 * introspect any token; a resource server may introspect tokens for its own audiences and subscribe to
 * security events (SSF streams).
 */
export const TEST_POLICY = `
@id("ci-tasks")
permit (principal is Credbroker::Workload, action in [Credbroker::Action::"OpenTask", Credbroker::Action::"DelegateTask",
  Credbroker::Action::"CloseTask", Credbroker::Action::"ReadTask"], resource is Credbroker::Task)
when { principal.issuer == "ci" };

@id("ci-tickets")
@max_ttl("600")
permit (principal is Credbroker::Workload, action == Credbroker::Action::"RequestCredential", resource)
when { principal.issuer == "ci" };

@id("ci-operator")
permit (principal == Credbroker::Workload::"ci:operator", action in [Credbroker::Action::"EmergencyRevoke",
  Credbroker::Action::"ReadAudit", Credbroker::Action::"RotateKeys"], resource);

@id("ci-introspect-own-tokens")
permit (principal is Credbroker::Workload, action == Credbroker::Action::"Introspect", resource)
when { principal.issuer == "ci" && context.caller_is_agent };

@id("ci-operator-introspect")
permit (principal == Credbroker::Workload::"ci:operator", action == Credbroker::Action::"Introspect", resource);

@id("rs-introspect-own-audience")
permit (principal is Credbroker::ResourceServer, action == Credbroker::Action::"Introspect", resource)
when { principal.audiences.contains(context.audience) };

@id("rs-subscribe-signals")
permit (principal is Credbroker::ResourceServer, action == Credbroker::Action::"SubscribeSignals", resource);

@id("no-blocked-agent")
forbid (principal, action, resource) when { principal.subject == "blocked" };
`;

/** The test policy plus the copilot pattern: writing tickets needs a human approver (`approver*`). */
export const TEST_POLICY_WITH_APPROVALS = `${TEST_POLICY}
@id("write-needs-approval")
@approval("required")
forbid (principal, action == Credbroker::Action::"RequestCredential", resource)
when { context.scopes.contains("tickets:write") && !context.approved };

@id("approvers")
permit (principal, action == Credbroker::Action::"Approve", resource)
when { principal.subject like "approver*" };
`;
