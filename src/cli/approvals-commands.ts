import type { Command } from "commander";
import { z } from "zod";
import { expectShape } from "./api-client.js";
import { type ApprovalView, approvalList, approvalView } from "./api-schemas.js";
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
import { type Column, shortTime } from "./table.js";

const lsOptions = z.object({ state: z.string().min(1), limit: limitOption.max(500) });

const decideOptions = z.object({ comment: z.string().max(2000).optional() });

const approvalColumns: Column<ApprovalView>[] = [
  { header: "approval", cell: (a) => a.approval_id },
  { header: "state", cell: (a) => a.state },
  { header: "task", cell: (a) => a.task_id },
  { header: "profile", cell: (a) => a.profile },
  { header: "requester", cell: (a) => a.requester },
  { header: "scopes", cell: (a) => a.scopes?.join(" "), maxWidth: 32 },
  {
    header: "ttl",
    cell: (a) => (a.ttl_seconds === null || a.ttl_seconds === undefined ? null : `${a.ttl_seconds}s`),
  },
  { header: "expires", cell: (a) => shortTime(a.expires_at) },
  { header: "reason", cell: (a) => a.reason, maxWidth: 40 },
];

async function listApprovals(command: Command): Promise<void> {
  const options = parseOptions(lsOptions, command);
  const { client, json } = connect(command);
  const collected = await collectPages(async (cursor, pageSize) => {
    const page = expectShape(
      approvalList,
      await client.get("/v1/approvals", { state: options.state, limit: pageSize, cursor }),
      "GET /v1/approvals",
    );
    return { items: page.approvals, next_cursor: page.next_cursor };
  }, options.limit);
  printListing(
    { json, key: "approvals", columns: approvalColumns, empty: `no ${options.state} approvals` },
    collected,
  );
}

async function decide(verdict: "approve" | "deny", approvalId: string, command: Command): Promise<void> {
  const options = parseOptions(decideOptions, command);
  const { client, json } = connect(command);
  const answer = await client.post(
    `/v1/approvals/${encodeURIComponent(approvalId)}/${verdict}`,
    options.comment === undefined ? {} : { comment: options.comment },
  );
  if (json) return printJson(answer);
  const approval = approvalView.safeParse(answer);
  const state = approval.success ? approval.data.state : verdict === "approve" ? "approved" : "denied";
  print(`${approvalId}: ${state}${options.comment ? ` (comment: ${options.comment})` : ""}`);
}

/** `credbroker approvals ls|approve|deny`: the copilot pattern's human side (policy action `Approve`). */
export function registerApprovalCommands(program: Command): void {
  const approvals = program
    .command("approvals")
    .description("review credential requests that need an approval");
  withConnection(
    approvals
      .command("ls")
      .description("list approvals (GET /v1/approvals)")
      .option("--state <state>", "which approvals (the broker lists pending ones)", "pending")
      .option("--limit <n>", "show at most n approvals (1..500)", "50")
      .action(operatorAction(async (_options: unknown, command: Command) => listApprovals(command))),
  );
  for (const verdict of ["approve", "deny"] as const) {
    withConnection(
      approvals
        .command(verdict)
        .description(`${verdict} a pending request (POST /v1/approvals/{id}/${verdict}); never your own`)
        .argument("<approval_id>", "apr_…")
        .option("--comment <text>", "recorded with the decision and shown in the evidence report")
        .action(
          operatorAction(async (approvalId: string, _options: unknown, command: Command) =>
            decide(verdict, approvalId, command),
          ),
        ),
    );
  }
}
