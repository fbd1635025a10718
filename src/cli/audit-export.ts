import { once } from "node:events";
import { open, rename, rm } from "node:fs/promises";
import { type ApiClient, expectShape } from "./api-client.js";
import { auditPage, checkpointList } from "./api-schemas.js";
import { EXPORT_FORMAT, type ExportHeader } from "./audit-export-file.js";

/** Where an export goes: text chunks, then `close` once everything is written. */
export interface ExportSink {
  write(text: string): Promise<void>;
  /** `ok: false` discards a partial file. */
  close(ok: boolean): Promise<void>;
}

/** Which slice of the chain to export. */
export interface ExportFilter {
  since?: string;
  taskId?: string;
}

const PAGE_SIZE = 1000;

const line = (kind: string, value: Record<string, unknown>) => `${JSON.stringify({ kind, ...value })}\n`;

/**
 * Writes the JSONL export (see audit-export-file.ts). Checkpoints are read before the events, so every
 * checkpoint in the file covers events that are in it too; events appended meanwhile are exported unsigned.
 */
export async function exportAudit(
  client: ApiClient,
  filter: ExportFilter,
  sink: ExportSink,
): Promise<{ events: number; checkpoints: number; anchor: boolean }> {
  const signed = expectShape(
    checkpointList,
    await client.get("/v1/audit/checkpoints"),
    "GET /v1/audit/checkpoints",
  );
  const header: ExportHeader = {
    kind: "export",
    format: EXPORT_FORMAT,
    exported_at: new Date().toISOString(),
    broker: client.baseUrl,
    filter: { since: filter.since ?? null, task_id: filter.taskId ?? null },
  };
  await sink.write(`${JSON.stringify(header)}\n`);
  if (signed.anchor) await sink.write(line("anchor", signed.anchor));
  if (signed.checkpoints.length > 0)
    await sink.write(signed.checkpoints.map((c) => line("checkpoint", c)).join(""));
  let events = 0;
  let cursor: string | undefined;
  do {
    const page = expectShape(
      auditPage,
      await client.get("/v1/audit", {
        task_id: filter.taskId,
        since: filter.since,
        limit: PAGE_SIZE,
        cursor,
      }),
      "GET /v1/audit",
    );
    if (page.events.length > 0) await sink.write(page.events.map((event) => line("event", event)).join(""));
    events += page.events.length;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return { events, checkpoints: signed.checkpoints.length, anchor: signed.anchor !== null };
}

/** Writes to `path` through a `.partial` file renamed into place only when the export completed. */
export async function fileSink(path: string): Promise<ExportSink> {
  const partial = `${path}.partial`;
  const handle = await open(partial, "w", 0o600);
  return {
    async write(text) {
      await handle.write(text);
    },
    async close(ok) {
      await handle.close();
      if (ok) await rename(partial, path);
      else await rm(partial, { force: true });
    },
  };
}

/** Writes to stdout, honouring backpressure. */
export function stdoutSink(): ExportSink {
  return {
    async write(text) {
      if (!process.stdout.write(text)) await once(process.stdout, "drain");
    },
    async close() {},
  };
}
