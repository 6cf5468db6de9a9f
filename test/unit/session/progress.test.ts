import assert from 'node:assert/strict';
import { formatProgress, progress, setProgressRenderer, type ProgressState } from '../../../session/progress.js';

describe('session/progress', () => {
  afterEach(() => setProgressRenderer(undefined));

  it('is a no-op without a renderer', () => {
    const p = progress('frames', 10);
    p.tick();
    p.done();
  });

  it('reports ticks and the end to the installed renderer', () => {
    const seen: ProgressState[] = [];
    let ended: ProgressState | undefined;
    setProgressRenderer({ update: (s) => seen.push(s), end: (s) => (ended = s) });
    const p = progress('radios', 4);
    p.tick();
    p.tick(2);
    p.done();
    p.done();
    p.tick();
    assert.deepEqual(
      seen.map((s) => s.done),
      [1, 3],
    );
    assert.equal(ended?.done, 3);
  });

  it('formats done/total, rate and ETA', () => {
    const line = formatProgress({ label: 'radios', total: 100, done: 25, elapsedMs: 5000 }, 80);
    assert.match(line, /^radios \[#+\.+\] 25\/100  5\.0\/s  ETA 15s$/);
  });
});
