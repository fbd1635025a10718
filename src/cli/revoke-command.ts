import type { Command } from "commander";
import { z } from "zod";
import { type ApiClient, expectShape } from "./api-client.js";
import { type RevocationStatus, revocationStatus } from "./api-schemas.js";
import {
  connect,
  note,
  operatorAction,
  parseOptions,
  print,
  printJson,
  withConnection,
} from "./cli-context.js";
import { CliError, EXIT } from "./cli-errors.js";
import { confirm } from "./confirm.js";
import { listRevocations } from "./revocations-list.js";
import { formatTable } from "./table.js";

const POLL_INTERVAL_MS = 500;

const waitOptions = {
  wait: z.boolean().optional(),
  timeout: z.coerce.number().positive().max(86_400),
};

const revokeOptions = z.object({
  task: z.string().min(1).optional(),
  agent: z.string().min(1).optional(),
  initiator: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
  all: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  yes: z.boolean().optional(),
  reason: z.string().min(1, "give the reason recorded in the audit log"),
  ...waitOptions,
});

type RevokeOptions = z.infer<typeof revokeOptions>;
type Selector = Record<string, string | true>;

/** Exactly one selector flag, as the API's `selector` object. */
function selectorOf(options: RevokeOptions): Selector {
  const given: Selector[] = [];
  if (options.task) given.push({ task_id: options.task });
  if (options.agent) given.push({ agent: options.agent });
  if (options.initiator) given.push({ initiator: options.initiator });
  if (options.profile) given.push({ profile: options.profile });
  if (options.provider) given.push({ provider: options.provider });
  if (options.all) given.push({ all: true });
  const [selector] = given;
  if (given.length !== 1 || !selector)
    throw new CliError("choose exactly one of --task, --agent, --initiator, --profile, --provider or --all");
  return selector;
}

const describeSelector = (selector: Selector | undefined) =>
  selector
    ? Object.entries(selector)
        .map(([key, value]) => (value === true ? key : `${key}=${value}`))
        .join(" ")
    : "?";

function progressLine(status: RevocationStatus): string {
  const p = status.progress;
  if (!p) return `${status.revocation_id}: ${status.state}`;
  const settled = p.revoked + p.expired + p.not_issued;
  return `${status.revocation_id}: ${status.state}, ${settled}/${status.credentials} settled (revoked ${p.revoked}, expired ${p.expired}, never issued ${p.not_issued}), revoking ${p.revoking}, failed ${p.revoke_failed}`;
}

function summary(status: RevocationStatus): string {
  const lines = [progressLine(status)];
  if (status.failed && status.failed.length > 0) {
    lines.push(
      "",
      formatTable(
        [
          { header: "credential", cell: (f) => f.credential_id },
          { header: "task", cell: (f) => f.task_id },
          { header: "last error", cell: (f) => f.last_error, maxWidth: 80 },
        ],
        status.failed,
      ),
      "",
      "retry each with `credbroker credentials retry <credential_id>` once the provider is fixed",
    );
  }
  return lines.join("\n");
}

async function fetchStatus(client: ApiClient, revocationId: string): Promise<RevocationStatus> {
  return expectShape(
    revocationStatus,
    await client.get(`/v1/admin/revocations/${encodeURIComponent(revocationId)}`),
    "GET /v1/admin/revocations/{id}",
  );
}

/** Polls until the revocation leaves `running`, reporting each change of progress on stderr (the end on stdout). */
async function waitForRevocation(client: ApiClient, revocationId: string, timeoutSeconds: number) {
  const until = Date.now() + timeoutSeconds * 1000;
  let last = "";
  for (;;) {
    const status = await fetchStatus(client, revocationId);
    if (status.state !== "running") return status;
    const line = progressLine(status);
    if (line !== last) note(line);
    last = line;
    if (Date.now() > until)
      throw new CliError(
        `revocation ${revocationId} is still running after ${timeoutSeconds} s; follow it with \`credbroker revocations show ${revocationId} --wait\``,
      );
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Prints the final status; a revocation that left failures exits 3. */
function finish(status: RevocationStatus, json: boolean): void {
  if (json) printJson(status);
  else print(summary(status));
  if (status.state === "failed") process.exitCode = EXIT.problemFound;
}

async function revoke(command: Command): Promise<void> {
  const options = parseOptions(revokeOptions, command);
  const selector = selectorOf(options);
  if (selector.all && !options.dryRun)
    await confirm("this revokes every open task's credentials", options.yes);
  const { client, json } = connect(command);
  const started = expectShape(
    revocationStatus,
    await client.post("/v1/admin/revocations", {
      selector,
      reason: options.reason,
      dry_run: options.dryRun === true,
    }),
    "POST /v1/admin/revocations",
  );
  if (options.dryRun) {
    if (json) return printJson(started);
    return print(
      `dry run, nothing revoked: ${describeSelector(selector)} matches ${started.tasks} task(s) (with descendants) and ${started.credentials} live credential(s); recorded as ${started.revocation_id}`,
    );
  }
  if (!options.wait) {
    if (json) return printJson(started);
    return print(
      `revocation ${started.revocation_id} started: closing ${started.tasks} task(s), revoking ${started.credentials} credential(s)\nfollow it with \`credbroker revocations show ${started.revocation_id} --wait\``,
    );
  }
  if (!json)
    note(
      `revocation ${started.revocation_id} started: ${started.tasks} task(s), ${started.credentials} credential(s)`,
    );
  finish(await waitForRevocation(client, started.revocation_id, options.timeout), json);
}

async function showRevocation(revocationId: string, command: Command): Promise<void> {
  const options = parseOptions(z.object(waitOptions), command);
  const { client, json } = connect(command);
  const status = options.wait
    ? await waitForRevocation(client, revocationId, options.timeout)
    : await fetchStatus(client, revocationId);
  finish(status, json);
}

/** `credbroker revoke …` (emergency revocation) and `credbroker revocations show`. */
export function registerRevokeCommands(program: Command): void {
  withConnection(
    program
      .command("revoke")
      .description(
        "emergency revocation: close matching tasks and revoke their credentials (EmergencyRevoke)",
      )
      .option("--task <task_id>", "one task and its descendants")
      .option("--agent <principal>", "every open task of this agent")
      .option("--initiator <subject>", "every open task started for this initiator")
      .option("--profile <profile>", "every task holding a live credential of this profile")
      .option("--provider <provider>", "every task holding a live credential of this provider")
      .option("--all", "every open task")
      .option("--dry-run", "only count what would be revoked")
      .option("--yes", "confirm --all without being asked")
      .requiredOption("--reason <text>", "why; recorded in the audit log")
      .option("--wait", "poll until every credential settled, showing progress")
      .option("--timeout <seconds>", "give up waiting after this long", "300")
      .action(operatorAction(async (_options: unknown, command: Command) => revoke(command))),
  );
  const revocations = program.command("revocations").description("list and follow emergency revocations");
  withConnection(
    revocations
      .command("ls")
      .description("emergency revocations, newest first (GET /v1/admin/revocations; EmergencyRevoke)")
      .option("--limit <n>", "show at most n revocations", "50")
      .option("--cursor <cursor>", "resume a listing")
      .action(operatorAction(async (_options: unknown, command: Command) => listRevocations(command))),
  );
  withConnection(
    revocations
      .command("show")
      .description("progress of a revocation (GET /v1/admin/revocations/{id})")
      .argument("<revocation_id>", "rev_…")
      .option("--wait", "poll until it finishes")
      .option("--timeout <seconds>", "give up waiting after this long", "300")
      .action(
        operatorAction(async (revocationId: string, _options: unknown, command: Command) =>
          showRevocation(revocationId, command),
        ),
      ),
  );
}
