import assert from 'node:assert/strict';
import { take, toArray, firstValueFrom } from 'rxjs';
import { fromProducer, sleep } from '../../../core/index.js';

describe('core/producer', () => {
  it('emits the producer values and completes', async () => {
    const values = await firstValueFrom(
      fromProducer(async function* () {
        yield 1;
        yield 2;
        yield 3;
      }).pipe(toArray()),
    );
    assert.deepEqual(values, [1, 2, 3]);
  });

  it('aborts a slow producer promptly on unsubscribe (< 100 ms for 1 s per item)', async () => {
    let finished = 0;
    let abortedAt = 0;
    const producer = async function* (signal: AbortSignal) {
      try {
        for (let i = 0; ; i++) {
          yield i;
          await sleep(1000, signal);
        }
      } finally {
        abortedAt = performance.now();
        finished++;
      }
    };
    const got: number[] = [];
    const sub = fromProducer(producer).subscribe((v) => got.push(v));
    await sleep(20);
    const t0 = performance.now();
    sub.unsubscribe();
    await sleep(100);
    assert.deepEqual(got, [0]);
    assert.equal(finished, 1, 'the generator ran its finally');
    assert.ok(abortedAt - t0 < 100, `stopped after ${abortedAt - t0} ms`);
  });

  it('aborts when a downstream take() completes', async () => {
    let signalAborted = false;
    const values = await firstValueFrom(
      fromProducer(async function* (signal) {
        signal.addEventListener('abort', () => (signalAborted = true));
        for (let i = 0; ; i++) {
          yield i;
          await sleep(1000, signal);
        }
      }).pipe(take(1), toArray()),
    );
    assert.deepEqual(values, [0]);
    await sleep(1);
    assert.ok(signalAborted);
  });

  it('passes producer errors to the subscriber', async () => {
    await assert.rejects(
      firstValueFrom(
        fromProducer(async function* () {
          yield 1;
          throw new Error('camera unplugged');
        }).pipe(toArray()),
      ),
      /camera unplugged/,
    );
  });
});
