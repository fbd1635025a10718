import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import type { PublicSignerJwk } from "../../providers/signer/signer-keys.js";
import { publicJwkSchema } from "../audit/audit-checkpoints.js";
import { expectShape } from "./api-client.js";
import { verifyResult } from "./api-schemas.js";
import { exportAudit, fileSink, stdoutSink } from "./audit-export.js";
import { ExportFormatError, openExport } from "./audit-export-file.js";
import { type OfflineVerifyResult, verifyExport } from "./audit-offline-verify.js";
import { sealCommand } from "./audit-seal.js";
import { verifyFull } from "./audit-verify-full.js";
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

const verifyOptions = z.object({
  file: z.string().optional(),
  jwks: z.string().optional(),
  json: z.boolean().optional(),
  full: z.boolean().optional(),
  timeout: z.coerce.number().positive().default(3600),
});
const exportOptions = z.object({
  out: z.string().optional(),
  since: z.iso
    .datetime({ offset: true, message: "must be an RFC 3339 time, e.g. 2026-11-23T00:00:00Z" })
    .optional(),
  task: z.string().optional(),
});

const jwksSchema = z.object({ keys: z.array(publicJwkSchema) });

/** The broker's published keys from a URL (its `/.well-known/jwks.json`) or a saved copy. */
async function loadTrustedKeys(source: string): Promise<PublicSignerJwk[]> {
  let raw: unknown;
  try {
    raw = /^https?:\/\//.test(source)
      ? await (await fetch(source, { signal: AbortSignal.timeout(30_000) })).json()
      : JSON.parse(await readFile(source, "utf8"));
  } catch (err) {
    throw new CliError(
      `cannot read the JWKS ${source} (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return expectShape(jwksSchema, raw, `the JWKS ${source}`).keys;
}

const seqRange = (first: number | null | undefined, last: number | null | undefined) =>
  first === null || first === undefined ? "no events" : `seq ${first}–${last}`;

function describeOffline(
  result: OfflineVerifyResult,
  file: string,
  pinned: boolean,
): { text: string; notes: string[] } {
  if (!result.valid) {
    const where = [
      result.first_invalid.seq === null ? null : `seq ${result.first_invalid.seq}`,
      result.first_invalid.line === null ? null : `line ${result.first_invalid.line}`,
    ].filter(Boolean);
    return {
      text: `audit export ${file} is INVALID${where.length ? ` at ${where.join(", ")}` : ""}: ${result.first_invalid.reason}`,
      notes: [],
    };
  }
  const notes: string[] = [];
  if (result.coverage === "suffix")
    notes.push(
      `note: a --since export, checked from seq ${result.first_seq} on; its link to earlier events is taken on trust`,
    );
  if (result.coverage === "per_event")
    notes.push(
      "note: a --task export: each event's hash and the checkpoints were checked, not the chain's continuity (run `credbroker audit verify` against the broker for that)",
    );
  if (
    result.coverage !== "per_event" &&
    result.last_seq !== null &&
    (result.signed_through_seq ?? 0) < result.last_seq
  )
    notes.push(
      `note: events after seq ${result.signed_through_seq ?? 0} are chained but not yet covered by a signed checkpoint`,
    );
  if (!pinned && result.checkpoints > 0)
    notes.push(
      "note: signatures were checked with the keys embedded in the export; add --jwks <broker>/.well-known/jwks.json to pin them to the broker's keys",
    );
  const keys = result.kids.length > 0 ? ` signed by ${result.kids.join(", ")}` : "";
  return {
    text: `audit export ${file} is valid (${result.coverage}): ${result.events} events, ${seqRange(result.first_seq, result.last_seq)}; ${result.checkpoints} checkpoint(s)${keys}`,
    notes,
  };
}

async function verifyFile(file: string, jwks: string | undefined, json: boolean): Promise<void> {
  try {
    await stat(file);
  } catch {
    throw new CliError(`cannot read ${file}`);
  }
  const trustedKeys = jwks ? await loadTrustedKeys(jwks) : null;
  let result: OfflineVerifyResult;
  try {
    result = await verifyExport(await openExport(file), { trustedKeys });
  } catch (err) {
    if (!(err instanceof ExportFormatError)) throw err;
    result = {
      valid: false,
      coverage: "complete",
      events: 0,
      checkpoints: 0,
      first_invalid: { seq: null, line: err.line, reason: err.message },
    };
  }
  if (json) printJson(result);
  else {
    const { text, notes } = describeOffline(result, file, trustedKeys !== null);
    print(text);
    for (const line of notes) note(line);
  }
  if (!result.valid) process.exitCode = EXIT.problemFound;
}

/** `scope` of a GET /v1/audit/verify answer (absent from older brokers and from a full run's result). */
const scopeOf = (answer: unknown): string | undefined =>
  z.object({ scope: z.string() }).safeParse(answer).data?.scope;

async function verify(command: Command): Promise<void> {
  const options = parseOptions(verifyOptions, command);
  if (options.file) return verifyFile(options.file, options.jwks, options.json === true);
  if (options.jwks) throw new CliError("--jwks only applies with --file (the broker checks its own keys)");
  const { client, json } = connect(command);
  const answer = options.full
    ? await verifyFull(client, options.timeout)
    : await client.get("/v1/audit/verify");
  const result = expectShape(verifyResult, answer, "GET /v1/audit/verify");
  const since = scopeOf(answer) === "since_checkpoint";
  if (json) printJson(answer);
  else if (result.valid)
    print(
      `audit chain is valid${since ? " since the newest checkpoint" : ""}: ${result.events} events, ${seqRange(result.first_seq, result.last_seq)}; ${result.checkpoints} signed checkpoint(s)${since ? " (`--full` walks it all)" : ""}`,
    );
  else
    print(
      `audit chain is INVALID at seq ${result.first_invalid.seq}: ${result.first_invalid.reason} (${result.events} events before it verified)`,
    );
  if (!result.valid) process.exitCode = EXIT.problemFound;
}

async function exportCommand(command: Command): Promise<void> {
  const options = parseOptions(exportOptions, command);
  const { client } = connect(command);
  const sink = options.out ? await fileSink(options.out) : stdoutSink();
  let ok = false;
  try {
    const written = await exportAudit(client, { since: options.since, taskId: options.task }, sink);
    ok = true;
    if (options.out)
      note(
        `wrote ${written.events} events and ${written.checkpoints} checkpoint(s)${written.anchor ? " and the retention anchor" : ""} to ${options.out}`,
      );
  } finally {
    await sink.close(ok);
  }
}

/**
 * `credbroker audit verify|export|seal` (policy action `ReadAudit`, `seal` `RotateKeys`; `verify --file`
 * works offline).
 */
export function registerAuditCommands(program: Command): void {
  const audit = program.command("audit").description("verify and export the hash-chained audit log");
  withConnection(
    audit
      .command("verify")
      .description(
        "check the audit chain: on the broker (GET /v1/audit/verify), or offline in an export with --file",
      )
      .option("--file <export.jsonl>", "verify an export written by `credbroker audit export`, offline")
      .option("--jwks <url|file>", "with --file: only trust checkpoint keys published in this JWKS")
      .option(
        "--full",
        "walk the whole chain as a job on the broker (a long chain's GET checks since the newest checkpoint)",
      )
      .option("--timeout <seconds>", "with --full: how long to wait for the walk", "3600")
      .action(operatorAction(async (_options: unknown, command: Command) => verify(command))),
  );
  withConnection(
    audit
      .command("export")
      .description("write audit events, checkpoints and anchor as JSONL")
      .option("--out <file>", "write here instead of stdout")
      .option("--since <time>", "events at or after this RFC 3339 time")
      .option("--task <task_id>", "only this task's events")
      .action(operatorAction(async (_options: unknown, command: Command) => exportCommand(command))),
    { json: false },
  );
  withConnection(
    audit
      .command("seal")
      .description("sign a checkpoint of the chain's head now (POST /v1/audit/checkpoints)")
      .action(operatorAction(async (_options: unknown, command: Command) => sealCommand(command))),
  );
}
