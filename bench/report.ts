import { writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { round } from "./stats.js";

/** A target a figure must meet; figures without one are informational. */
export interface Target {
  op: "<=" | ">=";
  value: number;
}

export interface Figure {
  /** Stable machine name, e.g. `issuance.ratio`. */
  id: string;
  scenario: string;
  label: string;
  value: number;
  unit: string;
  target?: Target;
  /** true/false against the target; null when informational or not measured. */
  pass: boolean | null;
  note?: string;
}

export interface ScenarioError {
  scenario: string;
  error: string;
}

export function figure(
  scenario: string,
  id: string,
  label: string,
  value: number,
  unit: string,
  target?: Target,
  note?: string,
): Figure {
  const measured = Number.isFinite(value);
  const pass =
    target === undefined || !measured
      ? null
      : target.op === "<="
        ? value <= target.value
        : value >= target.value;
  return { id, scenario, label, value: measured ? round(value, 2) : Number.NaN, unit, target, pass, note };
}

const pad = (text: string, width: number): string => text.padEnd(width);
const padLeft = (text: string, width: number): string => text.padStart(width);

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`.trim();
}

function verdict(f: Figure): string {
  if (f.target === undefined) return "info";
  if (f.pass === null) return "n/a";
  return f.pass ? "PASS" : "MISS";
}

export function renderTable(
  figures: readonly Figure[],
  errors: readonly ScenarioError[],
  footer: string[],
): string {
  const rows = figures.map((f) => [
    f.scenario,
    f.label,
    formatValue(f.value, f.unit),
    f.target ? `${f.target.op} ${formatValue(f.target.value, f.unit)}` : "",
    verdict(f),
  ]);
  const header = ["scenario", "figure", "value", "target", "result"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 2 || i === 3 ? padLeft(cell, widths[i]!) : pad(cell, widths[i]!)))
      .join(" | ");
  const rule = widths.map((w) => "-".repeat(w)).join("-+-");
  const out = [line(header), rule, ...rows.map(line), rule];
  for (const f of figures) if (f.note) out.push(`  [${f.id}] ${f.note}`);
  for (const e of errors) out.push(`  ERROR in ${e.scenario}: ${e.error}`);
  out.push(...footer.map((text) => `  ${text}`));
  return out.join("\n");
}

export interface Environment {
  date: string;
  node: string;
  platform: string;
  cpu_count: number;
  cpu_model: string;
  redis_version: string;
  redis_url: string;
  /** 1/5/15-minute load averages when the run started: other work on the machine skews every figure. */
  load_average_at_start: { one_minute: number; five_minutes: number; fifteen_minutes: number };
}

export function environment(redisVersion: string, redisUrl: string, loadAtStart: number[]): Environment {
  return {
    load_average_at_start: {
      one_minute: round(loadAtStart[0] ?? Number.NaN, 2),
      five_minutes: round(loadAtStart[1] ?? Number.NaN, 2),
      fifteen_minutes: round(loadAtStart[2] ?? Number.NaN, 2),
    },
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu_count: availableParallelism(),
    cpu_model: cpus()[0]?.model ?? "unknown",
    redis_version: redisVersion,
    redis_url: redisUrl.replace(/\/\/[^@]*@/, "//***@"),
  };
}

export function writeResults(
  file: string,
  env: Environment,
  figures: readonly Figure[],
  errors: readonly ScenarioError[],
  extra: Record<string, unknown>,
): void {
  const body = {
    environment: env,
    summary: {
      targets: figures.filter((f) => f.target !== undefined).length,
      passed: figures.filter((f) => f.pass === true).length,
      missed: figures.filter((f) => f.pass === false).length,
      errors: errors.length,
    },
    figures: figures.map((f) => ({ ...f, value: Number.isFinite(f.value) ? f.value : null })),
    errors,
    details: extra,
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
}
