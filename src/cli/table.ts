/** One column of a table: a header and how to render a row's cell. */
export interface Column<Row> {
  header: string;
  cell: (row: Row) => string | number | null | undefined;
  /** Longer cells are cut with "…": only for free text (intents, reasons, errors), never for ids. */
  maxWidth?: number;
}

const EMPTY = "-";

function clip(text: string, maxWidth: number | undefined): string {
  const oneLine = text.replace(/\s+/g, " ");
  if (maxWidth === undefined || oneLine.length <= maxWidth) return oneLine;
  return `${oneLine.slice(0, Math.max(0, maxWidth - 1))}…`;
}

/** Aligned columns separated by two spaces, headers in capitals; empty cells show as "-". */
export function formatTable<Row>(columns: Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) =>
    columns.map((column) => {
      const value = column.cell(row);
      return value === null || value === undefined || value === ""
        ? EMPTY
        : clip(String(value), column.maxWidth);
    }),
  );
  const headers = columns.map((column) => column.header.toUpperCase());
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  const render = (line: string[]) =>
    line
      .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [render(headers), ...cells.map(render)].join("\n");
}

/** `label: value` lines with the values aligned, for one object (`tasks show`). */
export function formatFields(fields: [label: string, value: string | number | null | undefined][]): string {
  const width = Math.max(...fields.map(([label]) => label.length)) + 1;
  return fields
    .map(([label, value]) =>
      `${`${label}:`.padEnd(width)} ${value === null || value === undefined || value === "" ? EMPTY : value}`.trimEnd(),
    )
    .join("\n");
}

/** RFC 3339 time without milliseconds (`2026-11-23T20:00:00Z`); null stays null. */
export function shortTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  return iso.replace(/\.\d+Z$/, "Z");
}
