import autocannon from "autocannon";

/** One request the load generator cycles through (every connection walks the list in order). */
export interface LoadRequest {
  method: "POST" | "GET";
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  title: string;
  url: string;
  requests: LoadRequest[];
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Called between the warm-up and the measured run (e.g. to snapshot server-side metrics). */
  beforeMeasure?: () => Promise<void>;
}

export interface LoadResult {
  title: string;
  /** 2xx responses per second over the measured run. */
  rps: number;
  /** Mean of autocannon's per-second request samples (all statuses). */
  rpsSampled: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationSeconds: number;
  statusCodes: Record<string, number>;
}

/**
 * Runs autocannon programmatically in one worker thread (so it does not share the event loop with the
 * in-process servers it measures; it still shares the machine's cores). Warm-up results are discarded.
 */
async function fire(options: LoadOptions, durationSeconds: number): Promise<autocannon.Result> {
  return autocannon({
    title: options.title,
    url: options.url,
    connections: options.connections,
    duration: durationSeconds,
    workers: 1,
    timeout: 10,
    requests: options.requests.map((request) => ({ ...request })),
  });
}

function toLoadResult(title: string, result: autocannon.Result): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = stat.count ?? 0;
  return {
    title,
    rps: result["2xx"] / result.duration,
    rpsSampled: result.requests.average,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: result.duration,
    statusCodes,
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await fire(options, options.warmupSeconds);
  if (options.beforeMeasure) await options.beforeMeasure();
  return toLoadResult(options.title, await fire(options, options.durationSeconds));
}

/** One share of a split load: its own autocannon (own worker thread) against one URL. */
export interface LoadTarget {
  url: string;
  connections: number;
}

/**
 * The same requests against several URLs at once (e.g. one per api process), one autocannon per target,
 * warm-up and measured run started together; one result per target, in order.
 */
export async function runLoadSplit(
  options: Omit<LoadOptions, "url" | "connections"> & { targets: readonly LoadTarget[] },
): Promise<LoadResult[]> {
  const each = (target: LoadTarget, i: number) => ({ ...options, ...target, title: `${options.title}#${i}` });
  if (options.warmupSeconds > 0)
    await Promise.all(options.targets.map((t, i) => fire(each(t, i), options.warmupSeconds)));
  if (options.beforeMeasure) await options.beforeMeasure();
  const results = await Promise.all(options.targets.map((t, i) => fire(each(t, i), options.durationSeconds)));
  return results.map((result, i) => toLoadResult(`${options.title}#${i}`, result));
}
