import type { AuditLog } from "../audit/audit-log.js";
import type { AuditDetailsByType } from "../audit/audit-types.js";
import type { Logger } from "../shared/logger.js";
import type { PolicyEngine } from "./policy-engine.js";

/**
 * Every policy reload (SIGHUP) lands in the audit log with its outcome and the new policy-set hash. The
 * append is best effort: the reload has already taken effect, and a failed append is logged.
 */
export function withAuditedReloads(
  engine: PolicyEngine,
  audit: Pick<AuditLog, "append">,
  logger: Logger,
): PolicyEngine {
  return {
    authorize: (request) => engine.authorize(request),
    info: () => engine.info(),
    cacheStats: () => engine.cacheStats(),
    reload() {
      const result = engine.reload();
      const details: AuditDetailsByType["policy.reloaded"] = result.ok
        ? { ok: true, policy_set_hash: result.hash }
        : { ok: false, error: result.error };
      audit.append({ type: "policy.reloaded", actor: "system:broker", details }).catch((err: unknown) => {
        logger.warn({ error: String(err) }, "cannot audit a policy reload");
      });
      return result;
    },
  };
}
