import assert from 'node:assert/strict';
import { MAX_TIMER_MS, sleep, startInterval, startTimer } from '../../../core/index.js';

/** Runs `fn` while recording the delays handed to Node's setTimeout (they still run normally). */
async function recordingDelays(fn: () => Promise<void> | void): Promise<number[]> {
  const delays: number[] = [];
  const original = globalThis.setTimeout;
  globalThis.setTimeout = ((handler: () => void, ms?: number, ...rest: unknown[]) => {
    delays.push(ms ?? 0);
    return original(handler, ms, ...rest);
  }) as typeof setTimeout;
  try {
    await fn();
  } finally {
    globalThis.setTimeout = original;
  }
  return delays;
}

describe('core/timers', () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(w.name);
  before(() => process.on('warning', onWarning));
  after(() => {
    process.off('warning', onWarning);
    assert.ok(!warnings.includes('TimeoutOverflowWarning'), 'no timer ever overflowed');
  });

  it('startTimer() fires once after a short delay; cancel() stops it', async () => {
    let fired = 0;
    startTimer(10, () => fired++);
    const cancelled = startTimer(10, () => fired++);
    cancelled.cancel();
    await sleep(40);
    assert.equal(fired, 1);
  });

  it('delays beyond 2³¹−1 ms are chained, never fire early, and Infinity never fires', async () => {
    let fired = false;
    const delays = await recordingDelays(() => {
      const long = startTimer(MAX_TIMER_MS * 3, () => (fired = true));
      const never = startTimer(Infinity, () => (fired = true));
      const month = startTimer(30 * 86_400_000, () => (fired = true));
      return sleep(50).then(() => [long, never, month].forEach((t) => t.cancel()));
    });
    assert.equal(fired, false);
    assert.ok(
      delays.every((d) => d <= MAX_TIMER_MS),
      `Node was asked for at most 2³¹−1 ms at once: ${delays.join(', ')}`,
    );
    assert.ok(delays.includes(MAX_TIMER_MS));
  });

  it('sleep() of any length waits (until aborted); NaN and negative delays are refused', async () => {
    const c = new AbortController();
    const t0 = performance.now();
    const long = sleep(3e9, c.signal);
    setTimeout(() => c.abort(), 30);
    await assert.rejects(long, { name: 'AbortError' });
    assert.ok(performance.now() - t0 >= 25, 'it did not resolve early');
    assert.throws(() => sleep(Number.NaN), /sleep\(\): the delay must be a number of milliseconds ≥ 0, got NaN/);
    assert.throws(() => startTimer(-1, () => undefined), RangeError);
  });

  it('startInterval() repeats until cancelled, one call at a time', async () => {
    let calls = 0;
    let running = 0;
    let overlap = false;
    const timer = startInterval(5, async () => {
      calls++;
      if (running++) overlap = true;
      await sleep(12);
      running--;
    });
    await sleep(80);
    timer.cancel();
    const seen = calls;
    await sleep(30);
    assert.ok(seen >= 3, `called ${seen} times`);
    assert.ok(calls - seen <= 1);
    assert.equal(overlap, false);
    assert.throws(() => startInterval(0, () => undefined), /period must be > 0/);
  });
});
