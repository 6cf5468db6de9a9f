/**
 * Waiting for a start instant precisely, as each camera server does before it starts its camera.
 * @module
 * @internal
 */
import { sleep } from '../../core/index.js';
import { preciseNow } from '../../walkers/formats/index.js';

/** A cell to futex-wait on: `Atomics.wait` sleeps with sub-millisecond precision, timers do not. */
const WAIT_CELL = new Int32Array(new SharedArrayBuffer(4));

/** The last part of a wait is a futex wait (ms): a timer before it may be late by this much. */
export const FUTEX_MS = 20;

/**
 * Waits until `at` (host clock, ms since the epoch): a timer until {@link FUTEX_MS} before, then a
 * futex wait (`Atomics.wait`) for the rest, which the kernel ends within tens of µs of `at` when
 * a core is free. No spin: on a loaded host (8 servers on 2 cores) a spinning server keeps the
 * others from the core they need to wake (a spin of the last 0.15 ms made the worst wake-up of 8
 * bare processes several times later).
 * @returns how late the wait ended (ms; 0 when it ended within 0.05 ms of `at`).
 */
export async function waitUntil(at: number, signal?: AbortSignal): Promise<number> {
  const ahead = at - preciseNow();
  if (ahead > 10_000) throw new Error(`startAt is ${Math.round(ahead)} ms ahead (at most 10 s)`);
  if (ahead > FUTEX_MS + 5) await sleep(ahead - FUTEX_MS, signal);
  signal?.throwIfAborted();
  // the futex may end a few µs early: wait again for what is left
  for (let rest = at - preciseNow(); rest > 0; rest = at - preciseNow()) Atomics.wait(WAIT_CELL, 0, 0, rest);
  const late = preciseNow() - at;
  return late > 0.05 ? late : 0;
}
