import { type ControlFacts, type ControlInput, controlFacts } from "./control-facts.js";
import type { ControlEntry, ControlFramework, ControlStatus } from "./evidence-types.js";

const entry = (id: string, name: string, status: ControlStatus, evidence: string): ControlEntry => ({
  id,
  name,
  status,
  evidence,
});

const names = (values: string[]): string => (values.length > 0 ? values.join(", ") : "none");
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Reusable assessments that several frameworks name differently. */
function assessments(f: ControlFacts) {
  const policyBound: [ControlStatus, string] =
    f.issued === 0
      ? ["not_exercised", "No credential was issued in this task tree."]
      : f.issuedWithPolicies === f.issued
        ? [
            "evidenced",
            `Every issued credential (${f.issued}) cites the policies that allowed it; profiles: ${names(f.profiles)}.`,
          ]
        : ["gap", `${f.issued - f.issuedWithPolicies} of ${f.issued} issued credentials cite no policy.`];
  const offboarding: [ControlStatus, string] =
    f.revokeFailed.length > 0 || f.liveInClosed.length > 0
      ? [
          "gap",
          `Credentials outliving their task: ${names([...f.revokeFailed, ...f.liveInClosed])} (revoke_failed ones stay valid until expiry).`,
        ]
      : f.closedTasks === 0
        ? ["not_exercised", "No task in this tree has closed yet; its credentials die at close or expiry."]
        : [
            "evidenced",
            `Closed tasks (${f.closedTasks}) hold no live credential (${f.revoked} revoked, ${f.expired} expired).`,
          ];
  const cascade: [ControlStatus, string] =
    f.orphanedChildren.length > 0
      ? ["gap", `Open tasks under a closed parent: ${names(f.orphanedChildren)}.`]
      : f.cascadeClosures > 0
        ? [
            "evidenced",
            `${plural(f.cascadeClosures, "descendant task")} closed with their parent (parent_closed).`,
          ]
        : ["not_exercised", "No parent closure cascaded in this tree."];
  const delegation: [ControlStatus, string] = f.delegated
    ? ["evidenced", `Hand-offs went through broker delegation only; agent chain: ${names(f.agentChain)}.`]
    : ["not_exercised", "The task was not delegated."];
  const approvals: [ControlStatus, string] =
    f.approvals > 0
      ? [
          "evidenced",
          `${plural(f.approvals, "approval")} recorded, ${f.decidedApprovals} decided by a named approver at a recorded time.`,
        ]
      : ["not_exercised", "No request in this tree needed a human approval."];
  const chain: [ControlStatus, string] = f.chainValid
    ? ["evidenced", `The cited events (${f.events}) and the whole audit chain verify.`]
    : ["gap", "Audit chain verification failed: see chain.cited.problems and chain.whole_chain."];
  const policies: [ControlStatus, string] =
    f.decisions > 0
      ? [
          "evidenced",
          `Every decision (${f.decisions}) cites its policy ids and the policy-set hash: ${names(f.policySetHashes.map((h) => h.slice(0, 12)))}.`,
        ]
      : ["not_exercised", "No decision was recorded for this tree."];
  const ttl: [ControlStatus, string] =
    f.issued === 0
      ? ["not_exercised", "No credential was issued in this task tree."]
      : f.beyondDeadline.length > 0
        ? ["gap", `Credentials expiring after their task's deadline: ${names(f.beyondDeadline)}.`]
        : [
            "evidenced",
            `Every issued credential (${f.issued}) expires by its task's deadline; longest TTL ${f.longestTtlSeconds} s.`,
          ];
  const attested: [ControlStatus, string] = [
    "evidenced",
    `Every actor is a workload verified from a signed assertion (issuer:sub); initiator ${f.initiator.subject} ${f.initiator.verified ? "verified by ID token" : "asserted, not verified"}.`,
  ];
  const denials: [ControlStatus, string] =
    f.denied > 0 || f.emergencyClosures > 0
      ? [
          "evidenced",
          `${plural(f.denied, "denied attempt")} and ${plural(f.emergencyClosures, "emergency closure")} recorded.`,
        ]
      : ["not_exercised", "No denied attempt or emergency revocation in this tree."];
  const deactivation: [ControlStatus, string] =
    f.revoked + f.expired > 0 || f.closedTasks > 0
      ? offboarding
      : ["not_exercised", "Nothing has been deactivated in this tree yet."];
  return {
    policyBound,
    offboarding,
    cascade,
    delegation,
    approvals,
    chain,
    policies,
    ttl,
    attested,
    denials,
    deactivation,
  };
}

/**
 * Maps what a report shows to OWASP Agentic Top 10 (ASI), OWASP NHI Top 10, CSA MAESTRO and NIST AI RMF
 * entries (shared/reference/standards.md §3), each with a status computed from the evidence.
 */
export function assessControls(input: ControlInput): ControlFramework[] {
  const f = controlFacts(input);
  const a = assessments(f);
  const noSecrets = `The cited events (${f.events}) hold ids, times and keyed hashes of handles only; secrets are returned once to the requesting workload and never stored.`;
  const intents = `Tasks declared their intent at open (${f.covered}); every credential request was decided against the policy (${f.credentialDecisions}).`;
  return [
    {
      framework: "owasp_agentic_top10_2026",
      title: "OWASP Top 10 for Agentic Applications (2026)",
      controls: [
        entry("ASI01", "Agent Goal Hijack", "evidenced", intents),
        entry("ASI02", "Tool Misuse and Exploitation", ...a.policyBound),
        entry("ASI03", "Identity and Privilege Abuse", ...a.attested),
        entry("ASI04", "Agentic Supply Chain Vulnerabilities", ...a.policies),
        entry("ASI05", "Unexpected Code Execution (RCE)", ...a.offboarding),
        entry("ASI06", "Memory and Context Poisoning", "by_design", noSecrets),
        entry("ASI07", "Insecure Inter-Agent Communication", ...a.delegation),
        entry("ASI08", "Cascading Failures", ...a.cascade),
        entry("ASI09", "Human-Agent Trust Exploitation", ...a.approvals),
        entry("ASI10", "Rogue Agents", ...a.denials),
      ],
    },
    {
      framework: "owasp_nhi_top10_2025",
      title: "OWASP Non-Human Identities Top 10 (2025)",
      controls: [
        entry("NHI1", "Improper Offboarding", ...a.offboarding),
        entry("NHI2", "Secret Leakage", "by_design", noSecrets),
        entry(
          "NHI3",
          "Vulnerable Third-Party NHI",
          f.issued > 0 ? "evidenced" : "not_exercised",
          f.issued > 0
            ? `Each credential names its downstream account: ${names(f.downstreamAccounts)}.`
            : "No credential was issued in this task tree.",
        ),
        entry("NHI4", "Insecure Authentication", ...a.attested),
        entry(
          "NHI5",
          "Overprivileged NHI",
          f.issued > 0 ? "evidenced" : "not_exercised",
          f.issued > 0
            ? `Granted scopes: ${names(f.scopes)}; profiles: ${names(f.profiles)}.`
            : "No credential was issued in this task tree.",
        ),
        entry(
          "NHI6",
          "Insecure Cloud Deployment Configurations",
          "by_design",
          "Trust policies are validated against the Cedar schema at load; decisions cite the policy-set hash.",
        ),
        entry("NHI7", "Long-Lived Secrets", ...a.ttl),
        entry(
          "NHI8",
          "Environment Isolation",
          "by_design",
          "Policies can require environment claims; the decisions above cite which policies applied.",
        ),
        entry(
          "NHI9",
          "NHI Reuse",
          f.issued > 0 ? "evidenced" : "not_exercised",
          f.issued > 0
            ? `Every credential (${f.issued}) is bound to exactly one task and agent.`
            : "No credential was issued in this task tree.",
        ),
        entry(
          "NHI10",
          "Human Use of NHI",
          f.initiatorIsAgent ? "not_exercised" : "evidenced",
          f.initiatorIsAgent
            ? "No separate human initiator was named: the opening workload is recorded as initiator."
            : `Initiator ${f.initiator.subject} is recorded apart from the agents (${names(f.agentChain)}), who alone received credentials.`,
        ),
      ],
    },
    {
      framework: "csa_maestro",
      title: "CSA MAESTRO",
      controls: [
        entry("L1", "Foundation Models", "not_exercised", "Outside the broker's core scope."),
        entry("L2", "Data Operations", ...a.policyBound),
        entry("L3", "Agent Frameworks", "evidenced", intents),
        entry("L4", "Deployment & Infrastructure", ...a.attested),
        entry("L5", "Evaluation & Observability", ...a.chain),
        entry("L6", "Security & Compliance", ...a.policies),
        entry("L7", "Agent Ecosystem", ...a.delegation),
        entry("Cross-layer", "Revocation cascade and kill switch", ...a.cascade),
      ],
    },
    {
      framework: "nist_ai_rmf_1_0",
      title: "NIST AI RMF 1.0 (AI 100-1)",
      controls: [
        entry("GOVERN 1.4", "Transparent policies and controls", ...a.policies),
        entry(
          "GOVERN 1.5",
          "Ongoing monitoring and periodic review",
          "evidenced",
          "This report, generated from the audit log.",
        ),
        entry("GOVERN 1.7", "Safe decommissioning", ...a.deactivation),
        entry("GOVERN 3.2", "Human-AI oversight roles", ...a.approvals),
        entry("MAP 3.5", "Human oversight processes", ...a.approvals),
        entry("MEASURE 2.7", "Security and resilience evaluated", ...a.chain),
        entry("MEASURE 2.8", "Transparency and accountability", ...a.policyBound),
        entry("MANAGE 2.4", "Supersede, disengage or deactivate", ...a.deactivation),
        entry("MANAGE 4.1", "Post-deployment monitoring and incident response", ...a.denials),
      ],
    },
  ];
}
