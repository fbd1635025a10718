import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { type ApiClient, createApiClient } from "./api-client.js";
import { ApiError, CliError, EXIT } from "./cli-errors.js";

/** Where the operator commands look for the broker when neither `--url` nor `CREDBROKER_URL` is set. */
export const DEFAULT_BROKER_URL = "http://127.0.0.1:8080";

/** What every operator command receives: an authenticated client and the output mode. */
export interface OperatorContext {
  client: ApiClient;
  /** `--json`: print the broker's answers as JSON instead of tables. */
  json: boolean;
}

const connectionOptions = z.object({
  url: z.string(),
  tokenFile: z.string().optional(),
  json: z.boolean().optional(),
  output: z.enum(["table", "json", "yaml"]).optional(),
});

/** How machine output is written: `--json` / `--output json` (default), or `--output yaml`. */
let machineFormat: "json" | "yaml" = "json";

/**
 * Adds `--url`, `--token-file` and (unless `json: false`, for commands whose output is already a format)
 * `--json` to an operator command, after its own options.
 */
export function withConnection(command: Command, options: { json?: boolean } = {}): Command {
  command
    .addOption(new Option("--url <url>", "broker URL").env("CREDBROKER_URL").default(DEFAULT_BROKER_URL))
    .addOption(
      new Option("--token-file <path>", "file holding the workload token (else $CREDBROKER_TOKEN)").env(
        "CREDBROKER_TOKEN_FILE",
      ),
    );
  if (options.json !== false) {
    command.option("--json", "print JSON for scripts instead of tables (same as --output json)");
    command.addOption(
      new Option("--output <format>", "table (default), json or yaml").choices(["table", "json", "yaml"]),
    );
  }
  return command;
}

/**
 * The token, in this order: `--token-file` given on the command line, `$CREDBROKER_TOKEN`, then the file
 * named by `$CREDBROKER_TOKEN_FILE`. Tokens are never taken as arguments: they would show in `ps`.
 */
function resolveToken(command: Command, tokenFile: string | undefined, env: NodeJS.ProcessEnv): string {
  const fromFlag = command.getOptionValueSource("tokenFile") === "cli";
  const inline = env.CREDBROKER_TOKEN?.trim();
  if (!fromFlag && inline) return inline;
  if (!tokenFile)
    throw new CliError(
      "no token: pass --token-file <path>, or set CREDBROKER_TOKEN or CREDBROKER_TOKEN_FILE",
      EXIT.config,
    );
  let token: string;
  try {
    token = readFileSync(tokenFile, "utf8").trim();
  } catch (err) {
    const reason = err instanceof Error && "code" in err ? String(err.code) : String(err);
    throw new CliError(`cannot read the token file ${tokenFile} (${reason})`, EXIT.config, { cause: err });
  }
  if (!token) throw new CliError(`the token file ${tokenFile} is empty`, EXIT.config);
  return token;
}

function brokerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`--url is not a URL: ${raw}`, EXIT.config);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new CliError(`--url must be http(s): ${raw}`, EXIT.config);
  return url.href;
}

/** Resolves the broker URL and token of `command` (an operator command built `withConnection`). */
export function connect(command: Command, env: NodeJS.ProcessEnv = process.env): OperatorContext {
  const options = connectionOptions.parse(command.opts());
  const baseUrl = brokerUrl(options.url);
  const token = resolveToken(command, options.tokenFile, env);
  machineFormat = options.output === "yaml" ? "yaml" : "json";
  const machine = options.json === true || options.output === "json" || options.output === "yaml";
  return { client: createApiClient({ baseUrl, token }), json: machine };
}

/** Parses a command's own options; a bad value is a usage error (exit 1) naming the option. */
export function parseOptions<T>(schema: z.ZodType<T>, command: Command): T {
  const result = schema.safeParse(command.opts());
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const option =
    issue?.path[0] === undefined
      ? ""
      : `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: `;
  throw new CliError(`${option}${issue?.message ?? "invalid options"}`);
}

/** `--limit`: 1..1000, like the API's page size. */
export const limitOption = z.coerce.number().int().min(1).max(1000);

/**
 * Wraps a command's action: a `CliError` becomes one line on stderr and the exit code; anything else is a
 * bug and propagates (the process crashes loudly rather than exiting as if the broker had refused).
 */
export function operatorAction<Args extends unknown[]>(run: (...args: Args) => Promise<void>) {
  return async (...args: Args): Promise<void> => {
    try {
      await run(...args);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      process.stderr.write(`credbroker: ${err.message}\n`);
      if (err instanceof ApiError && err.status >= 500 && err.requestId)
        process.stderr.write(`credbroker: request id ${err.requestId} (for the broker's logs)\n`);
      process.exitCode = err.exitCode;
    }
  };
}

/** Writes one block of output (a table, a summary) to stdout. */
export function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Writes a value for scripts: indented JSON (`--json`, `--output json`) or YAML (`--output yaml`). */
export function printJson(value: unknown): void {
  if (machineFormat === "yaml") {
    process.stdout.write(stringifyYaml(JSON.parse(JSON.stringify(value)) as unknown));
    return;
  }
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Progress and hints go to stderr, so stdout stays a clean table or JSON document. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}
