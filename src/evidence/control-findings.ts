import type { ControlFacts } from "./control-facts.js";

/**
 * What a report shows about one concern: whether anything in the task tree exercised it, whether it held,
 * and one line saying so from the report's own facts (and, where it matters, what the broker cannot see).
 */
export interface Finding {
  exercised: boolean;
  holds: boolean;
  rationale: string;
}

const names = (values: readonly string[]): string => (values.length > 0 ? values.join(", ") : "none");
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
const shown = (rationale: string): Finding => ({ exercised: true, holds: true, rationale });
const failing = (rationale: string): Finding => ({ exercised: true, holds: false, rationale });
const unexercised = (rationale: string): Finding => ({ exercised: false, holds: false, rationale });
const NO_CREDENTIAL = unexercised("No credential was issued in this task tree.");

/** Every issued credential was allowed by named policies. */
export function policyBound(f: ControlFacts): Finding {
  if (f.issued === 0) return NO_CREDENTIAL;
  if (f.issuedWithPolicies < f.issued)
    return failing(`${f.issued - f.issuedWithPolicies} of ${f.issued} issued credentials cite no policy.`);
  return shown(
    `Every issued credential (${f.issued}) was allowed by named policies (${names(f.allowingPolicies)}) for profiles ${names(f.profiles)}; what the agent then did downstream is outside the broker's view.`,
  );
}

/** Each credential went to its own task's agent, for that task only. */
export function binding(f: ControlFacts): Finding {
  if (f.issued === 0) return NO_CREDENTIAL;
  if (f.misbound.length > 0)
    return failing(`Credentials held by an agent other than their task's: ${names(f.misbound)}.`);
  return shown(
    `Each of the ${f.issued} issued credentials is bound to one task and to that task's agent (${names(f.credentialAgents)}).`,
  );
}

/** Callers are workloads the broker authenticated; the initiator is verified or only asserted. */
export function attested(f: ControlFacts): Finding {
  if (f.decisions === 0) return unexercised("No decision was recorded for this tree, so no caller is shown.");
  return shown(
    `All ${f.decisions} decisions name an issuer:sub workload the broker authenticated from a signed assertion (the assertions are not kept); initiator ${f.initiator.subject} ${f.initiator.verified ? "verified by ID token" : "asserted, not verified"}.`,
  );
}

/** Declared intents and policy-decided credential requests bound what an agent can reach. */
export function intents(f: ControlFacts): Finding {
  if (f.credentialDecisions === 0) return unexercised("No credential was requested in this task tree.");
  return shown(
    `${plural(f.covered, "task")} declared an intent at open and ${plural(f.credentialDecisions, "credential request")} were decided by policy; whether an agent's goal was hijacked is outside the broker's view.`,
  );
}

/** Every decision names its policies and the policy-set hash. */
export function policies(f: ControlFacts): Finding {
  if (f.decisions === 0) return unexercised("No decision was recorded for this tree.");
  return shown(
    `Every decision (${f.decisions}) names its policy ids and the policy-set hash (${names(f.policySetHashes.map((h) => h.slice(0, 12)))}).`,
  );
}

/** Closed tasks hold no live credential. */
export function offboarding(f: ControlFacts): Finding {
  const outlived = [...f.revokeFailed, ...f.liveInClosed];
  if (outlived.length > 0)
    return failing(
      `Credentials outlived their task: ${names(outlived)} (revoke_failed ones count as valid until expiry).`,
    );
  if (f.closedTasks === 0) return unexercised("No task in this tree has closed yet.");
  return shown(
    `The ${plural(f.closedTasks, "closed task")} hold no live credential (${f.revoked} revoked, ${f.expired} expired).`,
  );
}

/** Every credential expires by its task's deadline. */
export function shortLived(f: ControlFacts): Finding {
  if (f.issued === 0) return NO_CREDENTIAL;
  if (f.beyondDeadline.length > 0)
    return failing(`Credentials expiring after their task's deadline: ${names(f.beyondDeadline)}.`);
  return shown(
    `Every issued credential (${f.issued}) expires by its task's deadline; the longest TTL is ${f.longestTtlSeconds} s.`,
  );
}

/** Hand-offs between agents went through broker delegation. */
export function delegation(f: ControlFacts): Finding {
  if (f.delegatedTasks === 0) return unexercised("No task in this report was delegated.");
  return shown(
    `${plural(f.delegatedTasks, "task")} came from broker delegation; agent chain ${names(f.agentChain)}; messages between the agents are outside the broker's view.`,
  );
}

/** Closing a parent closed its descendants. */
export function cascade(f: ControlFacts): Finding {
  if (f.orphanedChildren.length > 0)
    return failing(`Open tasks under a closed parent: ${names(f.orphanedChildren)}.`);
  if (f.cascadeClosures === 0) return unexercised("No parent closure cascaded in this tree.");
  return shown(
    `${plural(f.cascadeClosures, "descendant task")} closed with their parent (parent_closed); failures inside the agents are outside the broker's view.`,
  );
}

/** Emergency revocation and parent-closure cascades left nothing live. */
export function killSwitch(f: ControlFacts): Finding {
  const left = [...new Set([...f.orphanedChildren, ...f.revokeFailed, ...f.unsettledInEnded])];
  if (f.emergencyClosures + f.cascadeClosures === 0)
    return unexercised("No emergency revocation or parent-closure cascade in this tree.");
  if (left.length > 0) return failing(`Left open or live after the revocation: ${names(left)}.`);
  return shown(
    `${plural(f.emergencyClosures, "emergency closure")} (close_reason revoked) and ${plural(f.cascadeClosures, "cascaded closure")} (parent_closed) left no open child and no live credential.`,
  );
}

/** Human approvals, with who decided and when. */
export function approvals(f: ControlFacts): Finding {
  if (f.approvals === 0) return unexercised("No request in this tree needed a human approval.");
  if (f.decidedApprovals === 0)
    return unexercised(`${plural(f.approvals, "approval")} recorded, none decided by a human yet.`);
  return shown(
    `${plural(f.approvals, "approval")} recorded, ${f.decidedApprovals} decided by a named approver at a recorded time; whether the approver was misled is outside the broker's view.`,
  );
}

/** Denied requests and emergency closures on record. */
export function incidents(f: ControlFacts): Finding {
  if (f.denied + f.emergencyClosures === 0)
    return unexercised("No denied request and no emergency revocation in this tree.");
  return shown(
    `${plural(f.denied, "denied request")} and ${plural(f.emergencyClosures, "emergency closure")} recorded; spotting misbehaviour beyond policy is the monitoring's job.`,
  );
}

/** The cited events and the whole chain verify, and how many a signed checkpoint pins. */
export function chainIntegrity(f: ControlFacts): Finding {
  if (f.events === 0) return unexercised("The report cites no event.");
  if (!f.chainValid)
    return failing("Audit chain verification failed: see chain.cited.problems and chain.whole_chain.");
  return shown(
    `The ${f.events} cited events and the whole audit chain verify; ${f.signedEvents} of them are pinned by a signed checkpoint.`,
  );
}

/** Secrets are short-lived and never land in the log. */
export function secretHandling(f: ControlFacts): Finding {
  if (f.issued === 0) return NO_CREDENTIAL;
  return shown(
    `The cited events hold ids, times and keyed hashes only, and the ${f.issued} credentials lived at most ${f.longestTtlSeconds} s; what an agent does with a secret it was given is outside the broker's view.`,
  );
}

/** Which downstream services the credentials reached. */
export function downstream(f: ControlFacts): Finding {
  if (f.issued === 0) return NO_CREDENTIAL;
  return shown(
    `The ${f.issued} credentials reached ${names(f.downstreamAccounts)} through ${names(f.providers)}; those services' own security is not evidenced.`,
  );
}

/** The granted scopes, for a reviewer to judge. */
export function grantedScopes(f: ControlFacts): Finding {
  if (f.issued === 0) return NO_CREDENTIAL;
  return shown(
    `Granted scopes ${names(f.scopes)} on profiles ${names(f.profiles)}, each allowed by policy; whether that was the least the task needed is the reviewer's call.`,
  );
}

/** The human initiator is recorded apart from the agents, who alone hold credentials. */
export function humanApart(f: ControlFacts): Finding {
  if (f.issued === 0) return NO_CREDENTIAL;
  if (f.initiatorIsAgent)
    return unexercised(
      "No separate human initiator was named: the opening workload is recorded as initiator.",
    );
  if (f.credentialAgents.includes(f.initiator.subject))
    return failing(`The initiator ${f.initiator.subject} itself holds a credential.`);
  return shown(
    `Initiator ${f.initiator.subject} is recorded apart from the agents (${names(f.agentChain)}), who alone received credentials; a human using an agent's secret is outside the broker's view.`,
  );
}

/** The report itself, rebuilt from the log on request. */
export function onDemandReview(f: ControlFacts): Finding {
  return shown(
    `This report is rebuilt from the audit log on request (${plural(f.events, "event")}); holding the reviews is the organisation's process.`,
  );
}
