import type { Figure } from "../report.js";

/** What every scenario hands back: its figures and the raw numbers behind them (for results.json). */
export interface ScenarioResult {
  figures: Figure[];
  details: Record<string, unknown>;
}

/** Progress lines go to stderr, the table to stdout. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}
