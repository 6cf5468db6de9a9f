import assert from 'node:assert/strict';
import {
  formatProgress,
  progress,
  setProgressRenderer,
  terminalRenderer,
  type ProgressState,
} from '../../../session/progress.js';

/** A stand-in terminal stream that records what is written. */
function fakeTerminal(): NodeJS.WriteStream & { written: string[] } {
  const written: string[] = [];
  return {
    columns: 80,
    written,
    write(chunk: string) {
      written.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WriteStream & { written: string[] };
}

const CLEAR = '\r\x1b[2K';
/** Save the cursor, up one line, clear it (the bar above the prompt); then restore the cursor. */
const ABOVE = '\x1b7\x1b[1A\r\x1b[2K';
const RESTORE = '\x1b8';

describe('session/progress', () => {
  afterEach(() => setProgressRenderer(undefined));

  it('is a no-op without a renderer', () => {
    const p = progress('frames', 10);
    p.tick();
    p.done();
  });

  it('reports ticks, absolute counts, a status and the end to the installed renderer', () => {
    const seen: ProgressState[] = [];
    let ended: ProgressState | undefined;
    setProgressRenderer({ update: (s) => seen.push(s), end: (s) => (ended = s) });
    const p = progress('radios', 10);
    p.tick();
    p.tick(2);
    p.advanceTo(7);
    p.advanceTo(5); // never backwards
    p.status('paused');
    p.done();
    p.done();
    p.tick();
    assert.deepEqual(
      seen.map((s) => [s.done, s.status]),
      [
        [1, undefined],
        [3, undefined],
        [7, undefined],
        [7, 'paused'],
      ],
    );
    assert.equal(ended?.done, 7);
  });

  it('formats done/total, rate and ETA; no rate from a first sample; a status instead of the ETA', () => {
    const line = formatProgress({ label: 'radios', total: 100, done: 25, elapsedMs: 5000 }, 80);
    assert.match(line, /^radios \[#+\.+\] 25\/100  5\.0\/s  ETA 15s$/);
    assert.match(formatProgress({ label: 'radios', total: 100, done: 1, elapsedMs: 2 }, 80), /\] 1\/100$/);
    assert.match(
      formatProgress({ label: 'radios', total: 100, done: 25, elapsedMs: 5000, status: 'paused' }, 80),
      /\] 25\/100 {2}paused$/,
    );
    assert.ok(formatProgress({ label: 'x'.repeat(100), total: 1, done: 0, elapsedMs: 0 }, 40).length < 40);
  });

  it('keeps the bar on its own line: other output clears it first and it is drawn again below', () => {
    const out = fakeTerminal();
    const err = fakeTerminal();
    const r = terminalRenderer(out, { intervalMs: 0, alsoGuard: [err] });
    try {
      r.update({ label: 'radios', total: 10, done: 1, elapsedMs: 10 });
      assert.deepEqual(out.written, [`${CLEAR}radios [${'#'.repeat(4)}${'.'.repeat(36)}] 1/10`]);
      out.written.length = 0;
      err.write('WARN something\n');
      assert.equal(out.written[0], CLEAR, 'the bar is cleared before the message');
      assert.deepEqual(err.written, ['WARN something\n']);
      assert.ok(out.written[1]!.startsWith(`${CLEAR}radios [`), 'and drawn again below it');
      out.written.length = 0;
      // The prompt comes back while the run goes on: the bar moves above it.
      out.write('demo > ');
      assert.equal(out.written[0], CLEAR);
      assert.ok(out.written[1]!.startsWith(`${CLEAR}radios [`) && out.written[1]!.endsWith('\n'));
      assert.equal(out.written[2], 'demo > ');
      out.written.length = 0;
      r.update({ label: 'radios', total: 10, done: 2, elapsedMs: 20 });
      const above = `${ABOVE}radios [`;
      assert.ok(
        out.written[0]!.startsWith(above) && out.written[0]!.endsWith(`2/10${RESTORE}`),
        'redrawn above the prompt',
      );
      r.end({ label: 'radios', total: 10, done: 2, elapsedMs: 20 });
      assert.equal(out.written.at(-1), `${ABOVE}${RESTORE}`, 'and cleared at the end');
    } finally {
      r.dispose();
    }
  });
});
