import { note, print, printJson } from "./cli-context.js";
import { type Collected, moreHint } from "./paging.js";
import { type Column, formatTable } from "./table.js";

/** Prints a collected listing: raw JSON under `key` with `--json`, else a table (or `empty`) and the "more" hint. */
export function printListing<Row>(
  output: { json: boolean; key: string; columns: Column<Row>[]; empty: string },
  collected: Collected<Row>,
): void {
  if (output.json) {
    printJson({ [output.key]: collected.items, next_cursor: collected.next_cursor });
    return;
  }
  print(collected.items.length > 0 ? formatTable(output.columns, collected.items) : output.empty);
  const hint = moreHint(collected);
  if (hint) note(hint);
}
