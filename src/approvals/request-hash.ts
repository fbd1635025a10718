import { createHash } from "node:crypto";
import { canonicalJson } from "../audit/canonical-json.js";

/** The exact request an approval stands for; any change to it (ttl, scope, reason) changes the hash. */
export function requestHash(request: {
  taskId: string;
  profile: string;
  scopes: string[];
  ttlSeconds: number | null;
  reason: string;
}): string {
  const canonical = canonicalJson({
    task_id: request.taskId,
    profile: request.profile,
    scopes: [...request.scopes].sort(),
    ttl_seconds: request.ttlSeconds,
    reason: request.reason,
  });
  return createHash("sha256").update(canonical).digest("hex");
}
