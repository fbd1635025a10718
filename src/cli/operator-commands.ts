import type { Command } from "commander";
import { registerApprovalCommands } from "./approvals-commands.js";
import { registerAuditCommands } from "./audit-commands.js";
import { registerAwsCommands } from "./aws-command.js";
import { DEFAULT_BROKER_URL } from "./cli-context.js";
import { registerCompletionCommand } from "./completion-command.js";
import { registerCredentialCommands } from "./credentials-commands.js";
import { registerDoctorCommand } from "./doctor-command.js";
import { registerEvidenceCommand } from "./evidence-command.js";
import { registerKeyCommands } from "./keys-command.js";
import { registerPolicyCommands } from "./policy-commands.js";
import { registerRevokeCommands } from "./revoke-command.js";
import { registerTaskCommands } from "./tasks-commands.js";
import { registerWhoAmICommand } from "./whoami-command.js";

const OPERATOR_HELP = `
Operator commands (tasks, revoke, revocations, credentials, approvals, audit, evidence, keys) call the
broker's HTTP API with a workload token. Broker: --url or $CREDBROKER_URL (default ${DEFAULT_BROKER_URL}).
Token: --token-file <path>, else $CREDBROKER_TOKEN, else the file named by $CREDBROKER_TOKEN_FILE.
Tables by default; --json prints the broker's JSON. Runbook: docs/operators.md.

Exit codes: 0 done; 1 the broker refused or failed, is unreachable, or the command line is wrong;
2 authentication or configuration (no token, unreadable token file, bad URL, 401);
3 done, and it found a problem (an invalid audit chain, a revocation that left failures).`;

/** Adds the operator commands (docs/operators.md) to the `credbroker` program. */
export function registerOperatorCommands(program: Command): void {
  registerTaskCommands(program);
  registerRevokeCommands(program);
  registerCredentialCommands(program);
  registerApprovalCommands(program);
  registerAuditCommands(program);
  registerEvidenceCommand(program);
  registerKeyCommands(program);
  registerPolicyCommands(program);
  registerAwsCommands(program);
  registerDoctorCommand(program);
  registerWhoAmICommand(program);
  registerCompletionCommand(program);
  program.addHelpText("after", OPERATOR_HELP);
}
