import type { Principal } from "../auth/principal.js";
import { type Decide, policyDenied } from "../policy/decider.js";
import { epochSeconds, policyPrincipal, taskInfo, taskResource } from "../policy/policy-context.js";
import { notFound } from "../shared/errors.js";
import type { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task-types.js";
import { createEvidenceBuilder, type EvidenceBuilderDeps } from "./evidence-builder.js";
import type { EvidenceReport } from "./evidence-types.js";

/** What the report is built from (see `createEvidenceBuilder`), plus the policy decider. */
export interface EvidenceServiceDeps extends EvidenceBuilderDeps {
  tasks: EvidenceBuilderDeps["tasks"] & Pick<TaskStore, "get">;
  decide: Decide;
}

/**
 * A task's evidence report, for the task's relations (owners and agents of it and its ancestors) when the
 * policy allows them `ReadTask`, and for principals the policy allows `ReadAudit` on the task; anyone else
 * gets 404, as for every task route. Both decisions are recorded as reads (`read: "evidence"`): the report
 * lists them under `accessed_by`, apart from what happened in the task.
 */
export function createEvidenceService(deps: EvidenceServiceDeps) {
  const evidence = createEvidenceBuilder(deps);

  /** Related principals read under `ReadTask`; others only under `ReadAudit` on the task. */
  async function authorize(principal: Principal, task: Task): Promise<void> {
    const now = deps.clock.now();
    const related = task.related.includes(principal.id);
    const who = policyPrincipal(principal);
    const resource = taskResource(task);
    const read = related
      ? await deps.decide(
          {
            action: "ReadTask",
            principal: who,
            resource,
            context: { task: taskInfo(task, now), now: epochSeconds(now) },
          },
          { taskId: task.id, read: "evidence" },
        )
      : null;
    if (read?.effect === "allow") return;
    const audit = await deps.decide(
      { action: "ReadAudit", principal: who, resource, context: { now: epochSeconds(now) } },
      { taskId: task.id, read: "evidence" },
    );
    if (audit.effect === "allow") return;
    if (read) throw policyDenied("ReadTask", read, principal.id);
    throw notFound("Task");
  }

  return {
    async report(principal: Principal, taskId: string, at?: number): Promise<EvidenceReport> {
      const task = await deps.tasks.get(taskId);
      if (!task) throw notFound("Task");
      await authorize(principal, task);
      return evidence.build(task, at === undefined ? {} : { at });
    },
  };
}

export type EvidenceService = ReturnType<typeof createEvidenceService>;
