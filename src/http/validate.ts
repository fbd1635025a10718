import type { z } from "zod";
import { BrokerError } from "../shared/errors.js";
import { zodIssues } from "./error-handler.js";

/**
 * Parses a body or query at the edge; a failure is 400 invalid_request listing every issue, its message
 * naming the fields at fault.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what = "request body",
): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    const issues = zodIssues(result.error);
    const paths = [...new Set(issues.map((issue) => issue.path))].join(", ");
    throw new BrokerError("invalid_request", `The ${what} is invalid (${paths}).`, { details: { issues } });
  }
  return result.data;
}
