import { createInterface } from "node:readline/promises";
import { CliError } from "./cli-errors.js";

/**
 * A guard for commands with a wide blast radius (`revoke --all`, `keys rotate`): `--yes` goes ahead; a
 * terminal is asked to type `yes`; anything else (a script without `--yes`) is refused before any request.
 */
export async function confirm(what: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new CliError(`${what}: add --yes to confirm (no terminal to ask)`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${what}. Type "yes" to continue: `);
    if (answer.trim().toLowerCase() !== "yes") throw new CliError("not confirmed: nothing was done");
  } finally {
    rl.close();
  }
}
