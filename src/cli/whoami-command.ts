import type { Command } from "commander";
import { z } from "zod";
import { expectShape } from "./api-client.js";
import { connect, operatorAction, print, printJson, withConnection } from "./cli-context.js";
import { formatFields } from "./table.js";

const effect = z.enum(["allow", "deny", "approval_required"]);
const whoami = z.object({
  principal: z.object({
    id: z.string(),
    issuer: z.string(),
    subject: z.string(),
    kind: z.string(),
    tags: z.record(z.string(), z.string()),
  }),
  actions: z.record(z.string(), effect),
  profiles: z.record(z.string(), effect),
});

async function show(command: Command): Promise<void> {
  const { client, json } = connect(command);
  const answer = await client.get("/v1/whoami");
  if (json) return printJson(answer);
  const me = expectShape(whoami, answer, "GET /v1/whoami");
  const tags = Object.entries(me.principal.tags).map(([name, value]): [string, string] => [
    `  ${name}`,
    value,
  ]);
  print(
    [
      formatFields([
        ["principal", me.principal.id],
        ["issuer", `${me.principal.issuer} (${me.principal.kind})`],
        ["subject", me.principal.subject],
      ]),
      tags.length > 0 ? `tags\n${formatFields(tags)}` : "tags: none",
      `the policy would (a dry run)\n${formatFields(Object.entries(me.actions).map(([a, e]): [string, string] => [`  ${a}`, e]))}`,
      Object.keys(me.profiles).length > 0
        ? `request credentials (under a task of its own)\n${formatFields(Object.entries(me.profiles).map(([p, e]): [string, string] => [`  ${p}`, e]))}`
        : "no profiles configured",
    ].join("\n"),
  );
}

/** `credbroker whoami`: the token's principal, its normalised tags, and what the policy would allow it. */
export function registerWhoAmICommand(program: Command): void {
  withConnection(
    program
      .command("whoami")
      .description(
        "the principal your token is, its tags, and what the policy would allow it (GET /v1/whoami)",
      )
      .action(operatorAction(async (_options: unknown, command: Command) => show(command))),
  );
}
