import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { z } from "zod";
import { parseCheckpoint } from "../audit/audit-checkpoints.js";
import { parseStoredEvent } from "../audit/audit-parse.js";
import type { AuditEvent } from "../audit/audit-types.js";
import type { Checkpoint } from "../audit/checkpoint-types.js";

/**
 * The JSONL format `credbroker audit export` writes and `credbroker audit verify --file` reads, in this
 * order: one `export` header, the `anchor` (when retention trimmed the chain), every `checkpoint`, then
 * every `event` in chain order. Each line is the API's object with a `kind` field added.
 */
export const EXPORT_FORMAT = 1;

export const exportHeader = z.object({
  kind: z.literal("export"),
  format: z.literal(EXPORT_FORMAT),
  exported_at: z.string(),
  broker: z.string(),
  /** A filtered export is a slice of the chain: `since` a contiguous suffix, `task_id` scattered events. */
  filter: z.object({ since: z.string().nullable(), task_id: z.string().nullable() }),
});
export type ExportHeader = z.infer<typeof exportHeader>;

/** A line that is not what the format allows at that place. */
export class ExportFormatError extends Error {
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "ExportFormatError";
    this.line = line;
  }
}

/** An export file opened for verification: what precedes the events, and the events as a stream. */
export interface OpenedExport {
  header: ExportHeader;
  anchor: { checkpoint: Checkpoint; line: number } | null;
  checkpoints: { checkpoint: Checkpoint; line: number }[];
  /** The first event, read ahead so the verifier can tell which kind of slice this is. */
  firstEvent: AuditEvent | null;
  /** Every event from the first, each with its line number; throws `ExportFormatError` on a bad line. */
  events: AsyncIterable<{ event: AuditEvent; line: number }>;
  /** Releases the file (the verifier may stop at the first invalid event). */
  close(): void;
}

const kindOf = (value: unknown): string | null =>
  value !== null && typeof value === "object" && "kind" in value && typeof value.kind === "string"
    ? value.kind
    : null;

function parseLine<T>(line: number, text: string, parse: (raw: string) => T, what: string): T {
  try {
    return parse(text);
  } catch (err) {
    const detail = err instanceof z.ZodError ? (err.issues[0]?.message ?? "wrong shape") : "unreadable";
    throw new ExportFormatError(line, `not a valid ${what} (${detail})`);
  }
}

/** Reads the header, anchor and checkpoints of an export and leaves the events to stream. */
export async function openExport(path: string): Promise<OpenedExport> {
  const lines = createInterface({
    input: createReadStream(path, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const iterator = lines[Symbol.asyncIterator]();
  let lineNumber = 0;
  const next = async (): Promise<{ text: string; kind: string | null } | null> => {
    for (;;) {
      const result = await iterator.next();
      if (result.done) return null;
      lineNumber++;
      if (result.value.trim() === "") continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(result.value);
      } catch {
        throw new ExportFormatError(lineNumber, "not JSON");
      }
      return { text: result.value, kind: kindOf(parsed) };
    }
  };

  /** Export lines are the API's event objects; the stored-event schema parses them (and drops `kind`). */
  const parseEvent = (raw: string) => parseStoredEvent(["e", raw]);
  const readPreamble = async () => {
    const first = await next();
    if (!first || first.kind !== "export")
      throw new ExportFormatError(lineNumber, 'the file does not start with an {"kind":"export"} header');
    const header = parseLine(
      lineNumber,
      first.text,
      (raw) => exportHeader.parse(JSON.parse(raw)),
      "export header",
    );
    let anchor: OpenedExport["anchor"] = null;
    const checkpoints: OpenedExport["checkpoints"] = [];
    let pending = await next();
    while (pending && pending.kind !== "event") {
      if (pending.kind === "anchor" && !anchor && checkpoints.length === 0)
        anchor = {
          checkpoint: parseLine(lineNumber, pending.text, parseCheckpoint, "anchor"),
          line: lineNumber,
        };
      else if (pending.kind === "checkpoint")
        checkpoints.push({
          checkpoint: parseLine(lineNumber, pending.text, parseCheckpoint, "checkpoint"),
          line: lineNumber,
        });
      else
        throw new ExportFormatError(lineNumber, `unexpected "${pending.kind ?? "?"}" line before the events`);
      pending = await next();
    }
    const firstEvent = pending ? parseLine(lineNumber, pending.text, parseEvent, "audit event") : null;
    return { header, anchor, checkpoints, firstEvent, firstLine: lineNumber };
  };
  let preamble: Awaited<ReturnType<typeof readPreamble>>;
  try {
    preamble = await readPreamble();
  } catch (err) {
    lines.close();
    throw err;
  }
  const { header, anchor, checkpoints, firstEvent, firstLine } = preamble;

  async function* events(): AsyncIterable<{ event: AuditEvent; line: number }> {
    if (!firstEvent) return;
    yield { event: firstEvent, line: firstLine };
    for (let entry = await next(); entry; entry = await next()) {
      if (entry.kind !== "event")
        throw new ExportFormatError(lineNumber, `unexpected "${entry.kind ?? "?"}" line among the events`);
      yield { event: parseLine(lineNumber, entry.text, parseEvent, "audit event"), line: lineNumber };
    }
  }

  return { header, anchor, checkpoints, firstEvent, events: events(), close: () => lines.close() };
}
