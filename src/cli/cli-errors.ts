/**
 * Exit codes of the operator commands (documented in `credbroker --help` and docs/operators.md).
 * Scripts rely on them: keep the numbers stable.
 */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** The broker refused or failed the request, it could not be reached, or the command line is wrong. */
  failed: 1,
  /** Authentication or configuration: no token, unreadable token file, bad `--url`, or a 401 from the broker. */
  config: 2,
  /** The request worked and found a problem: an invalid audit chain, or a revocation that left failures. */
  problemFound: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line on stderr (`credbroker: <message>`) and turns into an exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = EXIT.failed, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A non-2xx answer from the broker, carrying its stable error `code` (shared/API.md). */
export class ApiError extends CliError {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  readonly requestId: string | null;

  constructor(input: {
    status: number;
    code: string;
    message: string;
    details?: Record<string, unknown>;
    requestId: string | null;
  }) {
    super(
      `${input.status} ${input.code}: ${input.message}${describeDetails(input.details)}`,
      input.status === 401 ? EXIT.config : EXIT.failed,
    );
    this.name = "ApiError";
    this.status = input.status;
    this.code = input.code;
    this.details = input.details;
    this.requestId = input.requestId;
  }
}

/** The parts of `details` an operator acts on: validation issues and the deciding policy ids. */
function describeDetails(details: Record<string, unknown> | undefined): string {
  if (!details) return "";
  const parts: string[] = [];
  const { issues, policies } = details;
  if (Array.isArray(issues)) {
    for (const issue of issues) {
      if (issue && typeof issue === "object" && "message" in issue)
        parts.push(`${"path" in issue ? `${String(issue.path)}: ` : ""}${String(issue.message)}`);
    }
  }
  if (Array.isArray(policies) && policies.length > 0) parts.push(`policies ${policies.join(", ")}`);
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}
