import assert from 'node:assert/strict';
import { BufferPool } from '../../../../../addons/local/web-viewer/buffer-pool.js';

describe('addons/local/web-viewer/buffer-pool', () => {
  it('gives back a kept buffer of the length asked for, never one of another length', () => {
    const pool = new BufferPool<Uint8Array>(2);
    const a = new Uint8Array(8);
    pool.give(a);
    assert.equal(pool.take(16), undefined);
    assert.equal(pool.take(8), a);
    assert.equal(pool.take(8), undefined, 'taken once');
  });

  it('keeps at most perLength buffers of one length', () => {
    const pool = new BufferPool<Uint8Array>(2);
    const kept = [new Uint8Array(4), new Uint8Array(4), new Uint8Array(4)];
    for (const b of kept) pool.give(b);
    const taken = [pool.take(4), pool.take(4), pool.take(4)];
    assert.deepEqual(taken, [kept[1], kept[0], undefined]);
  });

  it('drops every kept buffer when a length past `lengths` comes (the sizes changed)', () => {
    const pool = new BufferPool<SharedArrayBuffer>(4, 2);
    const [a, b, c] = [new SharedArrayBuffer(1), new SharedArrayBuffer(2), new SharedArrayBuffer(3)];
    pool.give(a);
    pool.give(b);
    pool.give(c);
    assert.equal(pool.take(1), undefined);
    assert.equal(pool.take(2), undefined);
    assert.equal(pool.take(3), c);
  });
});
