import assert from 'node:assert/strict';
import { Mutex, sleep } from '../../../core/index.js';

describe('core/mutex', () => {
  it('serves waiters first come, first served, and a double release is harmless', async () => {
    const m = new Mutex();
    const order: number[] = [];
    const r1 = await m.acquire();
    assert.ok(m.held);
    const p2 = m.acquire().then((r) => (order.push(2), r));
    const p3 = m.acquire().then((r) => (order.push(3), r));
    await sleep(1);
    assert.deepEqual(order, []);
    r1();
    r1();
    const r2 = await p2;
    await sleep(1);
    assert.deepEqual(order, [2], 'a double release does not let the third in');
    r2();
    (await p3)();
    assert.deepEqual(order, [2, 3]);
    assert.ok(!m.held);
  });

  it('run() releases after an error', async () => {
    const m = new Mutex();
    await assert.rejects(
      m.run(() => Promise.reject(new Error('x'))),
      /x/,
    );
    assert.equal(await m.run(() => 42), 42);
  });
});
