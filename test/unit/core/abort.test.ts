import assert from 'node:assert/strict';
import {
  abortAll,
  ambientSignal,
  nextOperationId,
  operation,
  repeatedOperation,
  runningOperationList,
  runningOperations,
  sleep,
  startOperation,
  withAbortScope,
} from '../../../core/index.js';

describe('core/abort', () => {
  afterEach(() => assert.equal(runningOperations(), 0, 'every operation called done()'));

  it('sleep() resolves after the time and rejects at once when aborted', async () => {
    const t0 = performance.now();
    await sleep(20);
    assert.ok(performance.now() - t0 >= 19);
    const c = new AbortController();
    const t1 = performance.now();
    setTimeout(() => c.abort(), 10);
    await assert.rejects(sleep(5000, c.signal), { name: 'AbortError' });
    assert.ok(performance.now() - t1 < 200);
    await assert.rejects(sleep(1, c.signal), { name: 'AbortError' }, 'an already aborted signal rejects');
  });

  it('abortAll() aborts every running operation and says how many', async () => {
    const a = operation(undefined, (s) => sleep(5000, s));
    const b = operation(undefined, (s) => sleep(5000, s));
    assert.equal(runningOperations(), 2);
    const t0 = performance.now();
    assert.equal(abortAll(), 2);
    await assert.rejects(a, (e: Error) => e.name === 'AbortError' && /abortAll/.test(e.message));
    await assert.rejects(b, { name: 'AbortError' });
    assert.ok(performance.now() - t0 < 100);
    assert.equal(abortAll(), 0);
  });

  it('a repeated operation is tracked only while a run runs, each run with a fresh id; abortAll() ends it', async () => {
    const caller = new AbortController();
    const op = repeatedOperation(caller.signal, 'grabs');
    assert.equal(runningOperations(), 0, 'not running between runs');
    const first = nextOperationId();
    let seen: number[] = [];
    for (let i = 0; i < 3; i++)
      await op.run(async (signal) => {
        assert.equal(signal, op.signal);
        seen.push(runningOperationList().find((o) => o.label === 'grabs')!.id);
      });
    assert.deepEqual(seen, [first, first + 1, first + 2]);
    assert.equal(runningOperations(), 0);
    // abortAll() during a run aborts it, and every later run refuses to start.
    const running = op.run((signal) => sleep(5000, signal));
    assert.equal(abortAll(), 1);
    await assert.rejects(running, { name: 'AbortError' });
    await assert.rejects(
      op.run(async () => assert.fail('ran')),
      { name: 'AbortError' },
    );
    op.dispose();
    // The caller's signal aborts another one; disposed, it no longer listens to it.
    const other = repeatedOperation(caller.signal);
    const waiting = other.run((signal) => sleep(5000, signal));
    caller.abort(new DOMException('caller', 'AbortError'));
    await assert.rejects(waiting, /caller/);
    other.dispose();
    seen = [];
    const later = new AbortController();
    const disposed = repeatedOperation(later.signal);
    disposed.dispose();
    later.abort();
    assert.equal(disposed.signal.aborted, false, 'unlinked from its sources');
  });

  it('withAbortScope() makes its signal ambient for every operation started inside', async () => {
    const c = new AbortController();
    let inner: AbortSignal | undefined;
    const done = withAbortScope(c.signal, async () => {
      inner = ambientSignal();
      await sleep(1);
      // Still ambient after an await.
      assert.equal(ambientSignal(), c.signal);
      return operation(undefined, (s) => sleep(5000, s));
    });
    assert.equal(ambientSignal(), undefined, 'not ambient outside');
    setTimeout(() => c.abort(), 10);
    await assert.rejects(done, { name: 'AbortError' });
    assert.equal(inner, c.signal);
  });

  it('an operation fires on its own signal and starts aborted if the signal already is', async () => {
    const c = new AbortController();
    c.abort(new DOMException('nope', 'AbortError'));
    let ran = false;
    await assert.rejects(
      operation(c.signal, async () => {
        ran = true;
      }),
      /nope/,
    );
    assert.ok(!ran);
    const op = startOperation(c.signal);
    assert.ok(op.signal.aborted);
    op.done();
  });
});
