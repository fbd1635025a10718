import { type ControlFacts, type ControlInput, controlFacts } from "./control-facts.js";
import type { Finding } from "./control-findings.js";
import * as find from "./control-findings.js";
import type { ControlEntry, ControlFramework, ControlStatus } from "./evidence-types.js";

/** The most a mapping can claim when its finding is exercised and holds. */
type Grade = Exclude<ControlStatus, "not covered">;

/** One row of the map: a framework entry, its grade, and the finding it rests on. */
type Mapping = [id: string, name: string, grade: Grade, finding: (f: ControlFacts) => Finding];

/**
 * The mappings an auditor can defend (the table and its reasons: docs/evidence.md). Entries the broker
 * cannot evidence at all (e.g. ASI05 code execution, ASI06 memory poisoning, MAESTRO L1 foundation models)
 * are left out rather than shown with a borrowed fact.
 */
const FRAMEWORKS: { framework: ControlFramework["framework"]; title: string; mappings: Mapping[] }[] = [
  {
    framework: "owasp_agentic_top10_2026",
    title: "OWASP Top 10 for Agentic Applications (2026)",
    mappings: [
      ["ASI01", "Agent Goal Hijack", "supports", find.intents],
      ["ASI02", "Tool Misuse and Exploitation", "supports", find.policyBound],
      ["ASI03", "Identity and Privilege Abuse", "supports", find.binding],
      ["ASI07", "Insecure Inter-Agent Communication", "supports", find.delegation],
      ["ASI08", "Cascading Failures", "supports", find.cascade],
      ["ASI09", "Human-Agent Trust Exploitation", "supports", find.approvals],
      ["ASI10", "Rogue Agents", "supports", find.incidents],
    ],
  },
  {
    framework: "owasp_nhi_top10_2025",
    title: "OWASP Non-Human Identities Top 10 (2025)",
    mappings: [
      ["NHI1", "Improper Offboarding", "evidenced", find.offboarding],
      ["NHI2", "Secret Leakage", "supports", find.secretHandling],
      ["NHI3", "Vulnerable Third-Party NHI", "supports", find.downstream],
      ["NHI4", "Insecure Authentication", "supports", find.attested],
      ["NHI5", "Overprivileged NHI", "supports", find.grantedScopes],
      ["NHI7", "Long-Lived Secrets", "evidenced", find.shortLived],
      ["NHI9", "NHI Reuse", "evidenced", find.binding],
      ["NHI10", "Human Use of NHI", "supports", find.humanApart],
    ],
  },
  {
    framework: "csa_maestro",
    title: "CSA MAESTRO",
    mappings: [
      ["L2", "Data Operations", "supports", find.policyBound],
      ["L5", "Evaluation & Observability", "evidenced", find.chainIntegrity],
      ["L6", "Security & Compliance", "evidenced", find.policies],
      ["L7", "Agent Ecosystem", "supports", find.delegation],
      ["Cross-layer", "Revocation cascade and kill switch", "evidenced", find.killSwitch],
    ],
  },
  {
    framework: "nist_ai_rmf_1_0",
    title: "NIST AI RMF 1.0 (AI 100-1)",
    mappings: [
      ["GOVERN 1.4", "Transparent policies and controls", "evidenced", find.policies],
      ["GOVERN 1.5", "Ongoing monitoring and periodic review", "supports", find.onDemandReview],
      ["GOVERN 1.7", "Safe decommissioning", "supports", find.offboarding],
      ["GOVERN 3.2", "Human-AI oversight roles", "supports", find.approvals],
      ["MAP 3.5", "Human oversight processes", "evidenced", find.approvals],
      ["MEASURE 2.7", "Security and resilience evaluated", "supports", find.chainIntegrity],
      ["MEASURE 2.8", "Transparency and accountability", "supports", find.policyBound],
      ["MANAGE 2.4", "Supersede, disengage or deactivate", "supports", find.killSwitch],
      ["MANAGE 4.1", "Post-deployment monitoring and incident response", "supports", find.incidents],
    ],
  },
];

/** A row's status: its grade when the finding was exercised and held, else `not covered`. */
function assess([id, name, grade, finding]: Mapping, facts: ControlFacts): ControlEntry {
  const found = finding(facts);
  const status: ControlStatus = found.exercised && found.holds ? grade : "not covered";
  return { id, name, status, exercised: found.exercised, rationale: found.rationale };
}

/**
 * Maps what a report shows to OWASP Agentic Top 10 (ASI), OWASP NHI Top 10, CSA MAESTRO and NIST AI RMF
 * entries (shared/reference/standards.md §3), each graded from this report's facts.
 */
export function assessControls(input: ControlInput): ControlFramework[] {
  const facts = controlFacts(input);
  return FRAMEWORKS.map(({ framework, title, mappings }) => ({
    framework,
    title,
    controls: mappings.map((mapping) => assess(mapping, facts)),
  }));
}
