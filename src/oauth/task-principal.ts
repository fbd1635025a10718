import type { Principal } from "../auth/principal.js";
import type { IssuerKind } from "../config/config-schema.js";
import type { Task } from "../tasks/task-types.js";

/**
 * The principal a live task token stands for: the task's agent, `<issuer name>:<sub>` split back into its
 * parts, with the kind of that configured issuer. The token carries none of the agent's own claims, so the
 * policy sees no `tags` (docs/oauth.md: policies that key on tags see the agent through a workload JWT).
 */
export function createTaskPrincipals(issuerKinds: ReadonlyMap<string, IssuerKind>) {
  return (task: Task): Principal => {
    const colon = task.agent.indexOf(":");
    const issuer = colon > 0 ? task.agent.slice(0, colon) : task.agent;
    return {
      id: task.agent,
      issuer,
      subject: colon > 0 ? task.agent.slice(colon + 1) : "",
      kind: issuerKinds.get(issuer) ?? "oidc",
      claims: {},
      tags: {},
    };
  };
}
