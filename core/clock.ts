/**
 * A wall clock with sub-millisecond resolution that agrees with `Date.now()`.
 *
 * `performance.timeOrigin + performance.now()` has the resolution but not the agreement: it is
 * the wall time when the process started plus the monotonic clock since, and the two clocks drift
 * apart (about 0.6 ms a minute on a shared VM, several ms over a long session), so frame
 * timestamps, log records and the conductor's start times would disagree with `Date.now()`, with
 * files' times and with other processes. {@link preciseNow} keeps the monotonic resolution and
 * corrects the drift against `Date.now()` at most once a millisecond, so it always lies within
 * `Date.now()`'s millisecond.
 * @example
 * ```ts
 * const t = preciseNow(); // ms since the epoch, e.g. 1796247726123.457
 * const exposedAt = wallClockAt(performance.now()); // a performance.now() reading, as wall time
 * ```
 * @module
 */

/** What a {@link WallClock} reads; tests give their own. */
export interface ClockSources {
  /** A monotonic clock in ms (`performance.now()`). */
  monotonic(): number;
  /** The wall clock in whole ms (`Date.now()`). */
  wall(): number;
  /** The wall time in ms when `monotonic()` read 0 (`performance.timeOrigin`). */
  origin: number;
}

/** A calibrated wall clock: {@link preciseNow} and {@link wallClockAt} use one for the process. */
export interface WallClock {
  /** Now, in ms since the epoch with sub-ms resolution. */
  now(): number;
  /** The wall time of a reading `monotonicMs` of the monotonic clock (e.g. a `performance.now()` taken earlier). */
  at(monotonicMs: number): number;
}

/** How often (ms of monotonic time) the drift is checked against the wall clock. */
const CHECK_EVERY_MS = 1;
/** A reading of the wall clock taken over longer than this (preempted) says too little; it is skipped. */
const MAX_READING_MS = 0.02;

/** A wall clock from `sources`, corrected so that it lies within the wall clock's whole millisecond. */
export function createWallClock(sources: ClockSources): WallClock {
  let offset = 0;
  let checkedAt = -Infinity;
  const calibrate = (): void => {
    const m0 = sources.monotonic();
    const wall = sources.wall();
    const m1 = sources.monotonic();
    checkedAt = m1;
    if (m1 - m0 > MAX_READING_MS) return;
    // the true time when wall() was read lies in [wall, wall + 1), and between m0 and m1
    const late = wall - (sources.origin + m1 + offset);
    if (late > 0) offset += late;
    const early = sources.origin + m0 + offset - (wall + 1);
    if (early > 0) offset -= early;
  };
  const at = (monotonicMs: number): number => {
    if (sources.monotonic() - checkedAt >= CHECK_EVERY_MS) calibrate();
    return sources.origin + monotonicMs + offset;
  };
  return { now: () => at(sources.monotonic()), at };
}

const processClock = createWallClock({
  monotonic: () => performance.now(),
  wall: () => Date.now(),
  origin: performance.timeOrigin,
});

/** Milliseconds since the Unix epoch with sub-millisecond resolution, within `Date.now()`'s millisecond. */
export function preciseNow(): number {
  return processClock.now();
}

/** The wall time (ms since the epoch) of an earlier `performance.now()` reading. */
export function wallClockAt(performanceNowMs: number): number {
  return processClock.at(performanceNowMs);
}
