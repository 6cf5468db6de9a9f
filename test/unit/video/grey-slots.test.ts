import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startModuleWorker } from '../../../core/worker.js';
import { GreySlots, reachView } from '../../../video/grey-slots.js';

describe('video/grey-slots', () => {
  it('takes slots that do not overlap, 64-byte aligned, growing the shared memory as needed', () => {
    const slots = new GreySlots();
    assert.ok(slots.memory.buffer instanceof SharedArrayBuffer);
    const taken = [slots.take(2 * 1000, 1500)!, slots.take(2 * 1000, 1500)!, slots.take(2 * 300_000, 300_000)!];
    assert.equal(slots.inUse, 3);
    const spans = taken.flatMap((s) => [
      [s.input, s.input + s.inputBytes],
      [s.output, s.output + s.outputBytes],
    ]);
    for (const [start] of spans) assert.equal(start! % 64, 0);
    spans.sort((a, b) => a[0]! - b[0]!);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0]! >= spans[i - 1]![1]!, 'no overlap');
    assert.ok(
      (slots.memory.buffer as SharedArrayBuffer).byteLength >= spans.at(-1)![1]!,
      'the memory holds every slot',
    );
    assert.equal(slots.input(taken[2]!).length, 600_000);
    assert.equal(slots.output(taken[2]!).byteOffset, taken[2]!.output);
  });

  it('gives a slot back for the next frame of the same sizes; other sizes get their own', () => {
    const slots = new GreySlots();
    const a = slots.take(2048, 1536)!;
    slots.output(a).fill(128, 1024); // a tail: stays in the slot
    slots.give(a);
    assert.equal(slots.inUse, 0);
    const b = slots.take(4096, 2048)!;
    assert.notEqual(b, a);
    const c = slots.take(2048, 1536)!;
    assert.equal(c, a, 'the free slot of these sizes');
    assert.ok(
      slots
        .output(c)
        .subarray(1024)
        .every((v) => v === 128),
    );
    slots.give(c);
    slots.give(c); // twice: no second free entry
    assert.equal(slots.take(2048, 1536), a);
    assert.notEqual(slots.take(2048, 1536), a);
  });

  it('has at most 12 slots (then take returns undefined and the frame is posted instead)', () => {
    const slots = new GreySlots();
    const taken = Array.from({ length: 12 }, () => slots.take(64, 32));
    assert.ok(taken.every((s) => s !== undefined));
    assert.equal(slots.take(64, 32), undefined);
    slots.give(taken[5]!);
    assert.equal(slots.take(64, 32), taken[5]);
    assert.equal(new GreySlots().take(1 << 29, 1 << 28), undefined, 'more than the memory may grow to (512 MiB)');
  });

  it('reachView gives a thread that received the memory while it grew a view of all of it', async function () {
    this.timeout(60_000);
    // The race of a memory posted and then grown (a new slot memory's first slot): about 2% of
    // such memories arrived with a view of their first page only, before reachView.
    const worker = startModuleWorker(new URL('./fixtures/base.ts', import.meta.url).href, 'grown-memory-worker');
    try {
      await once(worker, 'message');
      const rounds = 3000;
      for (let i = 0; i < rounds; i++) {
        const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
        worker.postMessage({ memory });
        memory.grow(3);
        worker.postMessage({ end: 4 * 65536, last: i === rounds - 1 });
      }
      const [counts] = (await once(worker, 'message')) as [{ jobs: number; short: number }];
      assert.deepEqual(counts, { jobs: rounds, short: 0 });
    } finally {
      await worker.terminate();
    }
  });

  it('reachView refuses an end past the memory itself', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    assert.throws(() => reachView(memory, 65537), /the slot memory has 65536 bytes, short of the slot's end at 65537/);
  });
});
