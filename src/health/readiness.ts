/**
 * `/readyz`: every check runs at once, each with its own deadline, so the probe answers within about
 * `timeoutMs` however a dependency fails (a stalled Redis would otherwise hold it for the kernel's TCP
 * retry time). Each check says what is wrong in words an operator can act on.
 */
export interface ReadinessCheck {
  name: string;
  /** Resolves with null when healthy, else with the problem; a rejection counts as a problem too. */
  run(): Promise<string | null>;
}

export interface ReadinessReport {
  ready: boolean;
  /** `ok`, or the problem, per check. */
  checks: Record<string, string>;
}

export interface Readiness {
  check(): Promise<ReadinessReport>;
}

async function runWithin(check: ReadinessCheck, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`no answer within ${timeoutMs} ms (stalled, partitioned or overloaded)`),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      check.run().catch((err: unknown) => (err instanceof Error ? err.message : String(err))),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function createReadiness(checks: ReadinessCheck[], timeoutMs = 1_500): Readiness {
  return {
    async check() {
      const results = await Promise.all(checks.map((check) => runWithin(check, timeoutMs)));
      const report: ReadinessReport = { ready: true, checks: {} };
      checks.forEach((check, i) => {
        const problem = results[i] ?? null;
        report.checks[check.name] = problem ?? "ok";
        if (problem !== null) report.ready = false;
      });
      return report;
    },
  };
}
