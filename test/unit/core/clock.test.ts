import assert from 'node:assert/strict';
import { createWallClock, preciseNow, wallClockAt } from '../../../core/index.js';

/** Clock sources a test drives: a monotonic clock and a wall clock that drifts `ppm` from it. */
function driftingSources(ppm: number) {
  const s = { mono: 0, wallOffset: 0, origin: 1.8e12 + 0.25 };
  const trueWall = () => s.origin + s.mono * (1 + ppm * 1e-6) + s.wallOffset;
  return {
    s,
    trueWall,
    sources: { monotonic: () => s.mono, wall: () => Math.floor(trueWall()), origin: s.origin },
  };
}

describe('core/clock', () => {
  it('preciseNow() lies within Date.now()\u2019s millisecond, with sub-ms resolution', () => {
    let outside = 0;
    const fractions = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const before = Date.now();
      const t = preciseNow();
      const after = Date.now();
      if (t < before - 0.01 || t >= after + 1.01) outside++;
      fractions.add(Math.floor((t % 1) * 10));
    }
    assert.equal(outside, 0, 'readings outside [Date.now() before, Date.now() after + 1 ms)');
    assert.ok(fractions.size > 5, `sub-millisecond resolution (tenths of a ms seen: ${fractions.size})`);
  });

  it('wallClockAt() gives an earlier performance.now() reading as wall time', () => {
    const mono = performance.now();
    const wall = preciseNow();
    const at = wallClockAt(mono);
    assert.ok(at <= wall && wall - at < 5, `${at} is the wall time of ${mono}, just before ${wall}`);
  });

  it('corrects a monotonic clock that drifts from the wall clock (here 1 % over 10 minutes)', () => {
    const { s, trueWall, sources } = driftingSources(10_000);
    const clock = createWallClock(sources);
    let worst = 0;
    for (let step = 0; step < 600_000; step += 0.37) {
      s.mono = step;
      worst = Math.max(worst, Math.abs(clock.now() - trueWall()));
    }
    assert.ok(worst <= 1, `within 1 ms of the true time over 10 min, worst ${worst.toFixed(3)} ms`);
    // between corrections it keeps the monotonic clock's resolution
    s.mono = 700_000;
    const a = clock.now();
    s.mono += 0.123;
    assert.ok(Math.abs(clock.now() - a - 0.123) < 1e-3); // doubles near 1.8e12 ms resolve 0.24 µs
  });

  it('follows a step of the wall clock (NTP, a changed time) at the next check', () => {
    const { s, trueWall, sources } = driftingSources(0);
    const clock = createWallClock(sources);
    s.mono = 10;
    clock.now();
    s.wallOffset = 5_000;
    s.mono = 12;
    assert.ok(Math.abs(clock.now() - trueWall()) <= 1, 'a step forward');
    s.wallOffset = -60_000;
    s.mono = 14;
    assert.ok(Math.abs(clock.now() - trueWall()) <= 1, 'a step back');
    assert.ok(Math.abs(clock.at(13.5) - (trueWall() - 0.5)) <= 1, 'at() uses the same correction');
  });

  it('ignores a reading of the wall clock that took too long (preempted), and corrects at the next', () => {
    const { s, trueWall, sources } = driftingSources(0);
    s.wallOffset = 3;
    let slowReads = 1;
    const clock = createWallClock({
      ...sources,
      wall: () => {
        const w = sources.wall();
        if (slowReads-- > 0) s.mono += 5; // the thread lost the CPU between the readings
        return w;
      },
    });
    s.mono = 1;
    const first = clock.now();
    assert.ok(first - trueWall() < -1, 'the preempted reading was not used');
    s.mono += 2;
    assert.ok(Math.abs(clock.now() - trueWall()) <= 1, 'the next one was');
  });
});
