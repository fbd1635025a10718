/** Reads the broker's own issuance histogram from `GET /metrics` (Prometheus text format). */

const METRIC = "credbroker_issuance_duration_seconds";

export interface HistogramSnapshot {
  /** Upper bound in seconds (Infinity for +Inf) → cumulative count. */
  buckets: Map<number, number>;
  count: number;
  sum: number;
}

export async function scrapeIssuanceHistogram(baseUrl: string): Promise<HistogramSnapshot> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const buckets = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(METRIC) || !line.includes('provider="signer"')) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith(`${METRIC}_bucket`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le !== undefined) buckets.set(le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), value);
    } else if (line.startsWith(`${METRIC}_count`)) count = value;
    else if (line.startsWith(`${METRIC}_sum`)) sum = value;
  }
  return { buckets, count, sum };
}

/** The observations made between two snapshots. */
export function diffHistogram(before: HistogramSnapshot, after: HistogramSnapshot): HistogramSnapshot {
  const buckets = new Map<number, number>();
  for (const [le, cumulative] of after.buckets) buckets.set(le, cumulative - (before.buckets.get(le) ?? 0));
  return { buckets, count: after.count - before.count, sum: after.sum - before.sum };
}

/** Quantile (0..1) in milliseconds, interpolated linearly inside the bucket (as PromQL histogram_quantile). */
export function histogramQuantileMs(histogram: HistogramSnapshot, q: number): number {
  if (histogram.count <= 0) return Number.NaN;
  const rank = q * histogram.count;
  const bounds = [...histogram.buckets.keys()].sort((a, b) => a - b);
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bound of bounds) {
    const cumulative = histogram.buckets.get(bound) ?? 0;
    if (cumulative >= rank) {
      if (!Number.isFinite(bound)) return lowerBound * 1000;
      const inBucket = cumulative - lowerCount;
      const fraction = inBucket > 0 ? (rank - lowerCount) / inBucket : 1;
      return (lowerBound + (bound - lowerBound) * fraction) * 1000;
    }
    lowerBound = bound;
    lowerCount = cumulative;
  }
  return Number.NaN;
}

export const histogramMeanMs = (histogram: HistogramSnapshot): number =>
  histogram.count > 0 ? (histogram.sum / histogram.count) * 1000 : Number.NaN;
