import type { Logger } from "../shared/logger.js";
import type { PolicyEngine } from "./policy-engine.js";

/**
 * Reloads the policy set on SIGHUP. A broken set is refused and the previous one stays active (the
 * engine logs why). Returns a function that removes the handler.
 */
export function installSighupReload(
  engine: Pick<PolicyEngine, "reload" | "info">,
  logger: Pick<Logger, "info" | "warn">,
): () => void {
  const onSighup = (): void => {
    logger.info("SIGHUP received: reloading policies");
    const result = engine.reload();
    if (result.ok) {
      logger.info({ policy_set_hash: result.hash }, "policies reloaded on SIGHUP");
    } else {
      logger.warn(
        { error: result.error, policy_set_hash: engine.info().hash },
        "policy reload on SIGHUP refused; keeping the previous policy set",
      );
    }
  };
  process.on("SIGHUP", onSighup);
  return () => {
    process.off("SIGHUP", onSighup);
  };
}
