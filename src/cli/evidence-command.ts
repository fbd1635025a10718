import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import {
  connect,
  note,
  operatorAction,
  parseOptions,
  print,
  printJson,
  withConnection,
} from "./cli-context.js";
import { formatEvidence, formatValidAt, parseEvidence } from "./evidence-view.js";

const evidenceOptions = z.object({
  at: z.iso
    .datetime({ offset: true, message: "must be an RFC 3339 time, e.g. 2026-11-23T20:00:00Z" })
    .optional(),
  html: z.string().optional(),
});

async function evidence(taskId: string, command: Command): Promise<void> {
  const options = parseOptions(evidenceOptions, command);
  const { client, json } = connect(command);
  const path = `/v1/tasks/${encodeURIComponent(taskId)}/evidence`;
  const query = { at: options.at };
  if (options.html) {
    const page = await client.getText(path, "text/html", query);
    await writeFile(options.html, page, { mode: 0o600 });
    note(`wrote the evidence report of ${taskId} to ${options.html}`);
    return;
  }
  const answer = await client.get(path, query);
  if (json) return printJson(answer);
  const parsed = parseEvidence(answer);
  if ("problem" in parsed) {
    note(
      `credbroker: this report's shape is not the one this CLI knows (${parsed.problem}); showing it as JSON`,
    );
    return printJson(answer);
  }
  print(options.at ? formatValidAt(parsed.report) : formatEvidence(parsed.report));
  if (!options.at) note("the timeline and controls are in --json and --html <file>");
}

/** `credbroker evidence <task_id>`: the task's evidence report (GET /v1/tasks/{id}/evidence). */
export function registerEvidenceCommand(program: Command): void {
  withConnection(
    program
      .command("evidence")
      .description("a task's evidence report: delegation chain, decisions, approvals, credentials, timeline")
      .argument("<task_id>", "tsk_…")
      .option("--at <time>", "list the credentials valid at this RFC 3339 instant")
      .option("--html <file>", "write the self-contained HTML report to this file")
      .action(
        operatorAction(async (taskId: string, _options: unknown, command: Command) =>
          evidence(taskId, command),
        ),
      ),
  );
}
