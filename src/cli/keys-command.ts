import type { Command } from "commander";
import { expectShape } from "./api-client.js";
import { rotateResult } from "./api-schemas.js";
import { connect, operatorAction, print, printJson, withConnection } from "./cli-context.js";
import { confirm } from "./confirm.js";

async function rotate(command: Command): Promise<void> {
  await confirm("this makes a new signing key current", command.opts<{ yes?: boolean }>().yes);
  const { client, json } = connect(command);
  const answer = await client.post("/v1/admin/keys/rotate");
  if (json) return printJson(answer);
  const { kid, previous_kid } = expectShape(rotateResult, answer, "POST /v1/admin/keys/rotate");
  print(
    previous_kid
      ? `signing key rotated: new kid ${kid}; ${previous_kid} stays published in the JWKS so tokens it signed still verify`
      : `signing key rotated: new kid ${kid}`,
  );
}

/** `credbroker keys rotate` (policy action `RotateKeys`). */
export function registerKeyCommands(program: Command): void {
  const keys = program.command("keys").description("the built-in signer's keys");
  withConnection(
    keys
      .command("rotate")
      .description("make a new signing key current (POST /v1/admin/keys/rotate)")
      .option("--yes", "confirm without being asked")
      .action(operatorAction(async (_options: unknown, command: Command) => rotate(command))),
  );
}
