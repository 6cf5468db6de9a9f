import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { RECLAIM_BYTES, reclaimAfter, reclaimRuns } from '../../../core/reclaim.js';

/** Bytes of ArrayBuffer memory in this process (what the buffers of frames take). */
const arrayBufferBytes = (): number => process.memoryUsage().arrayBuffers;

/** Makes a 32 MiB buffer, reads it and drops it: as a consumer does with a frame. */
function receiveAndDrop(): number {
  const frame = Buffer.allocUnsafeSlow(32 << 20).fill(1);
  return frame[0]!;
}

describe('core/reclaim', () => {
  it('collects once every RECLAIM_BYTES of frames, not before', () => {
    reclaimAfter(RECLAIM_BYTES); // a whole step: whatever was counted before, this one collects
    const before = reclaimRuns();
    reclaimAfter(RECLAIM_BYTES - 1);
    assert.equal(reclaimRuns(), before);
    reclaimAfter(1);
    assert.equal(reclaimRuns(), before + 1);
    reclaimAfter(RECLAIM_BYTES / 2);
    reclaimAfter(RECLAIM_BYTES / 2);
    assert.equal(reclaimRuns(), before + 2);
  });

  it('frees the memory of a dropped frame and leaves a kept one intact', async () => {
    const kept = Buffer.allocUnsafeSlow(8 << 20).fill(7);
    reclaimAfter(RECLAIM_BYTES); // the buffers made so far are no longer new
    await new Promise((resolve) => setTimeout(resolve, 20));
    const base = arrayBufferBytes();
    assert.equal(receiveAndDrop(), 1);
    assert.ok(arrayBufferBytes() >= base + (32 << 20), 'the dropped frame is still counted before the collection');
    reclaimAfter(RECLAIM_BYTES);
    // V8 frees the memory of the collected buffers right after the collection (a helper thread may do it)
    const deadline = Date.now() + 2000;
    while (arrayBufferBytes() > base + (16 << 20) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(arrayBufferBytes() < base + (16 << 20), `${arrayBufferBytes() - base} bytes left over`);
    assert.ok(kept.every((byte) => byte === 7));
  });

  it('does not hand gc() to contexts made later (such as the prompt’s)', () => {
    reclaimAfter(RECLAIM_BYTES);
    assert.equal(runInNewContext('typeof gc'), (globalThis as { gc?: unknown }).gc ? 'function' : 'undefined');
  });
});
