import type { Command } from "commander";
import { z } from "zod";
import { credentialProcessOutput } from "../client/aws.js";
import { connect, operatorAction, parseOptions, printJson, withConnection } from "./cli-context.js";
import { CliError } from "./cli-errors.js";

const options = z.object({
  task: z.string().min(1, "--task names the task the credential is for"),
  profile: z.string().min(1, "--profile names an STS profile"),
  ttl: z.coerce.number().int().positive().optional(),
  reason: z.string().optional(),
});

const issuedSecret = z.object({ secret: z.record(z.string(), z.unknown()) });

/**
 * `credbroker aws credential-process`: an STS credential for a task, printed as AWS `credential_process`
 * JSON (version 1), so the AWS CLI and SDKs get task-bound credentials from a profile:
 * `credential_process = credbroker aws credential-process --task tsk_… --profile reports-ro --token-file …`.
 */
async function credentialProcess(command: Command): Promise<void> {
  const o = parseOptions(options, command);
  const { client } = connect(command);
  const body = {
    profile: o.profile,
    ...(o.ttl ? { ttl_seconds: o.ttl } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  };
  const answer = await client.post(`/v1/tasks/${encodeURIComponent(o.task)}/credentials`, body);
  const parsed = issuedSecret.safeParse(answer);
  if (!parsed.success) {
    throw new CliError(
      "the broker held the request for approval (or answered no credential): approve it, then run again",
    );
  }
  printJson(credentialProcessOutput(parsed.data.secret));
}

/** `credbroker aws credential-process`. */
export function registerAwsCommands(program: Command): void {
  const aws = program.command("aws").description("AWS tooling on top of STS profiles");
  withConnection(
    aws
      .command("credential-process")
      .description("print an STS credential of a task as credential_process JSON (AWS CLI and SDKs)")
      .requiredOption(
        "--task <task_id>",
        "the task the credential is for (the token's principal is its agent)",
      )
      .requiredOption("--profile <name>", "an STS profile")
      .option("--ttl <seconds>", "the TTL to ask for")
      .option("--reason <text>", "why (recorded with the credential)")
      .action(operatorAction(async (_o: unknown, command: Command) => credentialProcess(command))),
  );
}
