/** A clock that follows real time from an offset tests can move forward; share one between sims and the broker. */
export interface TestClock {
  now(): number;
  /** Moves this clock (and everything that reads it) `ms` into the future. */
  advance(ms: number): void;
}

export function createTestClock(): TestClock {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance(ms) {
      offsetMs += ms;
    },
  };
}
