import { policyPrincipal } from "../policy/policy-context.js";
import type { PolicyEngine } from "../policy/policy-engine.js";
import type { DecisionEffect, PolicyAction } from "../policy/policy-types.js";
import { explainRequest } from "../policy/sample-requests.js";
import type { Principal } from "./principal.js";

/** The caller as the broker sees it, and what the policy would let it do (a dry run: nothing recorded). */
export interface WhoAmI {
  principal: { id: string; issuer: string; subject: string; kind: string; tags: Record<string, string> };
  /** Effects of the broker-wide actions and of opening a task for itself. */
  actions: Partial<Record<PolicyAction, DecisionEffect>>;
  /** `RequestCredential` of each configured profile, under a task it opened for itself. */
  profiles: Record<string, DecisionEffect>;
}

const ACTIONS: readonly PolicyAction[] = ["OpenTask", "ReadAudit", "RotateKeys", "EmergencyRevoke"];

/**
 * `GET /v1/whoami`: evaluates the policy without recording decisions (it answers only about the caller,
 * to the caller, and changes nothing), with the same sample requests as `credbroker policy explain`.
 */
export function createWhoAmI(deps: {
  policy: Pick<PolicyEngine, "authorize">;
  profiles: () => { name: string; provider: string }[];
  now: () => number;
}) {
  return (caller: Principal): WhoAmI => {
    const principal = policyPrincipal(caller);
    const ask = (action: PolicyAction, profile = "", provider = "signer") =>
      deps.policy.authorize(
        explainRequest(
          {
            principal,
            action,
            profile,
            provider,
            scopes: [],
            ttlSeconds: 300,
            approved: false,
            intent: "",
            labels: {},
          },
          deps.now(),
        ),
      ).effect;
    return {
      principal: {
        id: caller.id,
        issuer: caller.issuer,
        subject: caller.subject,
        kind: caller.kind,
        tags: caller.tags,
      },
      actions: Object.fromEntries(ACTIONS.map((action) => [action, ask(action)])),
      profiles: Object.fromEntries(
        deps.profiles().map((p) => [p.name, ask("RequestCredential", p.name, p.provider)]),
      ),
    };
  };
}

export type WhoAmIService = ReturnType<typeof createWhoAmI>;
