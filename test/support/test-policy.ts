/** The policy most integration tests run under: workloads of issuer "ci" may run tasks and get signer credentials. */
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

@id("no-blocked-agent")
forbid (principal, action, resource) when { principal.subject == "blocked" };
`;
