import type { Command } from "commander";
import { z } from "zod";
import { expectShape } from "./api-client.js";
import {
  type CredentialView,
  type TaskSummaryView,
  type TaskView,
  taskList,
  taskView,
} from "./api-schemas.js";
import {
  connect,
  limitOption,
  operatorAction,
  parseOptions,
  print,
  printJson,
  withConnection,
} from "./cli-context.js";
import { ApiError, CliError } from "./cli-errors.js";
import { printListing } from "./listing.js";
import { collectPages } from "./paging.js";
import { type Column, formatFields, formatTable, shortTime } from "./table.js";

const lsOptions = z.object({
  state: z.enum(["open", "closing", "closed"]).optional(),
  agent: z.string().optional(),
  initiator: z.string().optional(),
  limit: limitOption,
  cursor: z.string().optional(),
});

const taskColumns: Column<TaskSummaryView>[] = [
  { header: "task", cell: (t) => t.task_id },
  { header: "state", cell: (t) => (t.close_reason ? `${t.state} (${t.close_reason})` : t.state) },
  { header: "agent", cell: (t) => t.agent, maxWidth: 48 },
  { header: "initiator", cell: (t) => t.initiator?.subject, maxWidth: 32 },
  { header: "creds", cell: (t) => t.credential_counts.total },
  { header: "created", cell: (t) => shortTime(t.created_at) },
  { header: "deadline", cell: (t) => shortTime(t.deadline) },
  { header: "intent", cell: (t) => t.intent, maxWidth: 40 },
];

/** The credential table of `tasks show` and `credentials ls`. */
export const credentialColumns: Column<CredentialView>[] = [
  { header: "credential", cell: (c) => c.credential_id },
  { header: "task", cell: (c) => c.task_id },
  { header: "profile", cell: (c) => c.profile },
  { header: "provider", cell: (c) => c.provider },
  { header: "state", cell: (c) => c.state },
  { header: "issued", cell: (c) => shortTime(c.issued_at) },
  { header: "expires", cell: (c) => shortTime(c.expires_at) },
  { header: "revoked", cell: (c) => shortTime(c.revoked_at) },
  { header: "account", cell: (c) => c.downstream?.account, maxWidth: 32 },
  { header: "last error", cell: (c) => c.last_error, maxWidth: 60 },
];

async function listTasks(command: Command): Promise<void> {
  const options = parseOptions(lsOptions, command);
  const { client, json } = connect(command);
  const collected = await collectPages(
    async (cursor, pageSize) => {
      const page = expectShape(
        taskList,
        await client.get("/v1/admin/tasks", {
          state: options.state,
          agent: options.agent,
          initiator: options.initiator,
          limit: pageSize,
          cursor,
        }),
        "GET /v1/admin/tasks",
      );
      return { items: page.tasks, next_cursor: page.next_cursor };
    },
    options.limit,
    options.cursor,
  );
  printListing({ json, key: "tasks", columns: taskColumns, empty: "no tasks match" }, collected);
}

function describeTask(task: TaskView): string {
  const blocks = [
    formatFields([
      ["task", task.task_id],
      ["state", task.state],
      ["close reason", task.close_reason],
      ["intent", task.intent],
      [
        "initiator",
        task.initiator?.subject
          ? `${task.initiator.subject}${task.initiator.verified ? " (verified)" : " (unverified)"}`
          : null,
      ],
      ["owner", task.owner],
      ["agent", task.agent],
      ["parent", task.parent_task_id],
      ["depth", task.depth],
      ["profiles", task.profiles?.join(", ")],
      [
        "labels",
        Object.entries(task.labels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(", "),
      ],
      ["created", shortTime(task.created_at)],
      ["deadline", shortTime(task.deadline)],
      ["closed", shortTime(task.closed_at)],
      ["children", task.children.join(", ")],
    ]),
  ];
  blocks.push(
    task.credentials.length > 0
      ? formatTable(
          credentialColumns.filter((c) => c.header !== "task"),
          task.credentials,
        )
      : "no credentials",
  );
  return blocks.join("\n\n");
}

async function showTask(taskId: string, command: Command): Promise<void> {
  const { client, json } = connect(command);
  let answer: unknown;
  try {
    answer = await client.get(`/v1/tasks/${encodeURIComponent(taskId)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404)
      throw new CliError(
        `404 not_found: task ${taskId} does not exist or is not visible to you (only its owner, its agent and ` +
          "their ancestors' owners and agents may read it here); operators list tasks with `credbroker tasks ls` " +
          `and review one with \`credbroker evidence ${taskId}\``,
      );
    throw err;
  }
  if (json) return printJson(answer);
  print(describeTask(expectShape(taskView, answer, "GET /v1/tasks/{id}")));
}

/** `credbroker tasks ls|show`. */
export function registerTaskCommands(program: Command): void {
  const tasks = program.command("tasks").description("list and inspect tasks");
  withConnection(
    tasks
      .command("ls")
      .description("list tasks, newest first (GET /v1/admin/tasks; ReadAudit)")
      .option("--state <state>", "open, closing or closed")
      .option("--agent <principal>", "agent principal id, e.g. k8s:system:serviceaccount:agents:summariser")
      .option("--initiator <subject>", "initiator subject, e.g. alice@example.com")
      .option("--limit <n>", "show at most n tasks", "50")
      .option("--cursor <cursor>", "resume a listing")
      .action(operatorAction(async (_options: unknown, command: Command) => listTasks(command))),
  );
  withConnection(
    tasks
      .command("show")
      .description("show one task and its credentials (GET /v1/tasks/{id})")
      .argument("<task_id>", "tsk_…")
      .action(
        operatorAction(async (taskId: string, _options: unknown, command: Command) =>
          showTask(taskId, command),
        ),
      ),
  );
}
