import type { z } from "zod";
import { BrokerError } from "../shared/errors.js";
import { zodIssues } from "./error-handler.js";

/** Parses a body or query at the edge; a failure is 400 invalid_request listing every issue. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what = "request body",
): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    throw new BrokerError("invalid_request", `The ${what} is invalid.`, {
      details: { issues: zodIssues(result.error) },
    });
  }
  return result.data;
}
