/**
 * Timers of any length. Node's `setTimeout` and `setInterval` keep a delay only up to 2³¹−1 ms
 * (about 24.8 days): a longer one fires after 1 ms (with a `TimeoutOverflowWarning`), so a motor
 * move of 1e9 mm would "arrive" at once and a camera at 1e-7 Hz would deliver frames as fast as it
 * can. {@link startTimer} and {@link startInterval} chain timers of at most that length instead, and treat
 * `Infinity` as "never"; every timer in Concert goes through them.
 * @example
 * ```ts
 * const timer = startTimer(30 * 86_400_000, () => console.log('a month later')).unref();
 * timer.cancel();
 * ```
 * @module
 */

/** The longest delay one Node timer (or a 32-bit ZeroMQ socket option) holds: 2³¹−1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending timer of any length. */
export interface Timer {
  /** Stops it; it never fires afterwards. Idempotent. */
  cancel(): void;
  /** Lets the process exit while only this timer is pending (like `Timeout.unref()`); returns itself. */
  unref(): Timer;
}

/** Milliseconds as a timer takes them: NaN and negative are refused (they are always a bug). */
function checkDelay(what: string, ms: number): void {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0)
    throw new RangeError(`${what}: the delay must be a number of milliseconds ≥ 0, got ${String(ms)}`);
}

/**
 * Calls `fn` once after `ms` milliseconds, however long (chained timers past {@link MAX_TIMER_MS};
 * `Infinity` never fires).
 * @throws RangeError for a negative or NaN delay.
 */
export function startTimer(ms: number, fn: () => void): Timer {
  checkDelay('startTimer()', ms);
  let handle: NodeJS.Timeout | undefined;
  let cancelled = false;
  let weak = false;
  const deadline = performance.now() + ms;
  const arm = (left: number) => {
    handle = setTimeout(
      () => {
        handle = undefined;
        const rest = deadline - performance.now();
        // Chained: wake up at most every MAX_TIMER_MS, and once more for what is left.
        if (rest > 1 && left > MAX_TIMER_MS) arm(rest);
        else if (!cancelled) fn();
      },
      Math.min(left, MAX_TIMER_MS),
    );
    if (weak) handle.unref();
  };
  const timer: Timer = {
    cancel() {
      cancelled = true;
      if (handle) clearTimeout(handle);
      handle = undefined;
    },
    unref() {
      weak = true;
      handle?.unref();
      return timer;
    },
  };
  if (ms !== Infinity) arm(ms);
  return timer;
}

/**
 * Calls `fn` every `ms` milliseconds (any length, as {@link startTimer}) until cancelled; `fn` runs
 * after each period, never twice at once if it returns a promise (the next period starts when it
 * settles).
 * @throws RangeError for a delay ≤ 0 or NaN.
 */
export function startInterval(ms: number, fn: () => void | Promise<void>): Timer {
  checkDelay('startInterval()', ms);
  if (ms === 0) throw new RangeError('startInterval(): the period must be > 0 ms, got 0');
  let current: Timer | undefined;
  let cancelled = false;
  let weak = false;
  const schedule = () => {
    current = startTimer(ms, () => {
      let result: void | Promise<void>;
      try {
        result = fn();
      } catch {
        result = undefined;
      }
      if (result instanceof Promise) result.catch(() => undefined).finally(() => !cancelled && schedule());
      else if (!cancelled) schedule();
    });
    if (weak) current.unref();
  };
  const timer: Timer = {
    cancel() {
      cancelled = true;
      current?.cancel();
    },
    unref() {
      weak = true;
      current?.unref();
      return timer;
    },
  };
  schedule();
  return timer;
}

/**
 * Resolves after `ms` milliseconds (any length), or rejects with the signal's reason when it
 * aborts first. `Infinity` waits until aborted.
 * @throws RangeError for a negative or NaN delay.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  checkDelay('sleep()', ms);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timer.cancel();
      reject(signal!.reason);
    };
    const timer = startTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
