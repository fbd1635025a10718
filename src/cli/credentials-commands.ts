import type { Command } from "commander";
import { z } from "zod";
import { expectShape } from "./api-client.js";
import { credentialList, credentialView } from "./api-schemas.js";
import {
  connect,
  limitOption,
  operatorAction,
  parseOptions,
  print,
  printJson,
  withConnection,
} from "./cli-context.js";
import { printListing } from "./listing.js";
import { collectPages } from "./paging.js";
import { formatFields, shortTime } from "./table.js";
import { credentialColumns } from "./tasks-commands.js";

const CREDENTIAL_STATES = [
  "pending",
  "active",
  "revoking",
  "revoked",
  "expired",
  "revoke_failed",
  "failed",
  "resolved",
] as const;

const resolveOptions = z.object({ reason: z.string().trim().min(1, "--reason must say why") });

const lsOptions = z.object({
  state: z.enum(CREDENTIAL_STATES).optional(),
  provider: z.string().optional(),
  task: z.string().optional(),
  limit: limitOption,
  cursor: z.string().optional(),
});

async function listCredentials(command: Command): Promise<void> {
  const options = parseOptions(lsOptions, command);
  const { client, json } = connect(command);
  const collected = await collectPages(
    async (cursor, pageSize) => {
      const page = expectShape(
        credentialList,
        await client.get("/v1/admin/credentials", {
          state: options.state,
          provider: options.provider,
          task_id: options.task,
          limit: pageSize,
          cursor,
        }),
        "GET /v1/admin/credentials",
      );
      return { items: page.credentials, next_cursor: page.next_cursor };
    },
    options.limit,
    options.cursor,
  );
  printListing(
    { json, key: "credentials", columns: credentialColumns, empty: "no credentials match" },
    collected,
  );
}

async function retryRevocation(credentialId: string, command: Command): Promise<void> {
  const { client, json } = connect(command);
  const answer = await client.post(`/v1/admin/credentials/${encodeURIComponent(credentialId)}/retry`);
  if (json) return printJson(answer);
  const credential = expectShape(credentialView, answer, "POST /v1/admin/credentials/{id}/retry");
  print(
    [
      `revocation retry queued for ${credential.credential_id}`,
      formatFields([
        ["task", credential.task_id],
        ["provider", credential.provider],
        ["state", credential.state],
        ["revoked", shortTime(credential.revoked_at)],
      ]),
      `check it with \`credbroker credentials ls --task ${credential.task_id ?? "<task_id>"}\``,
    ].join("\n"),
  );
}

async function resolveCredential(credentialId: string, command: Command): Promise<void> {
  const { reason } = parseOptions(resolveOptions, command);
  const { client, json } = connect(command);
  const path = `/v1/admin/credentials/${encodeURIComponent(credentialId)}/resolve`;
  const answer = await client.post(path, { reason });
  if (json) return printJson(answer);
  const credential = expectShape(credentialView, answer, "POST /v1/admin/credentials/{id}/resolve");
  print(
    [
      `${credential.credential_id} resolved by hand: its task can finish closing`,
      formatFields([
        ["task", credential.task_id],
        ["provider", credential.provider],
        ["state", credential.state],
        ["reason", reason],
      ]),
    ].join("\n"),
  );
}

/** `credbroker credentials ls|retry|resolve`. */
export function registerCredentialCommands(program: Command): void {
  const credentials = program
    .command("credentials")
    .description("list credentials, retry failed revocations, resolve them by hand");
  withConnection(
    credentials
      .command("ls")
      .description("list credentials (GET /v1/admin/credentials; ReadAudit)")
      .option("--state <state>", `one of ${CREDENTIAL_STATES.join(", ")}`)
      .option("--provider <provider>", "provider name, e.g. vault")
      .option("--task <task_id>", "credentials of one task")
      .option("--limit <n>", "show at most n credentials", "50")
      .option("--cursor <cursor>", "resume a listing")
      .action(operatorAction(async (_options: unknown, command: Command) => listCredentials(command))),
  );
  withConnection(
    credentials
      .command("retry")
      .description("retry a failed revocation now (POST /v1/admin/credentials/{id}/retry; EmergencyRevoke)")
      .argument("<credential_id>", "crd_… in state revoke_failed")
      .action(
        operatorAction(async (credentialId: string, _options: unknown, command: Command) =>
          retryRevocation(credentialId, command),
        ),
      ),
  );
  withConnection(
    credentials
      .command("resolve")
      .description(
        "settle a revoke_failed credential by hand once you made sure it is dead downstream " +
          "(POST /v1/admin/credentials/{id}/resolve; EmergencyRevoke)",
      )
      .argument("<credential_id>", "crd_… in state revoke_failed")
      .requiredOption("--reason <text>", "what you checked or decided (kept in the audit log and evidence)")
      .action(
        operatorAction(async (credentialId: string, _options: unknown, command: Command) =>
          resolveCredential(credentialId, command),
        ),
      ),
  );
}
