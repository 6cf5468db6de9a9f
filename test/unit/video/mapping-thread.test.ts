import assert from 'node:assert/strict';
import { makeFrame, sleep, type Frame } from '../../../core/index.js';
import { ContrastMapper, drawText, parseContrast } from '../../../video/index.js';
import type { GreyRange } from '../../../video/grey-kernel.js';
import { MappingThread } from '../../../video/mapping-thread.js';

const W = 320;
const H = 211; // W·H is not a multiple of 16: the SIMD kernel's tail is mapped by the table

/** Waits until the process's mapping thread runs (it starts on first use). */
async function threadReady(): Promise<MappingThread> {
  const thread = MappingThread.shared();
  for (let i = 0; i < 600 && !thread.ready; i++) await sleep(50);
  assert.ok(thread.ready, 'the mapping thread started');
  return thread;
}

function frameOf(i: number, dtype: 'uint16' | 'int16' | 'float32'): Frame {
  const n = W * H;
  const value = (k: number) => ((k * 37 + i * 1009) % 60000) - (dtype === 'int16' ? 30000 : 0);
  const data =
    dtype === 'uint16'
      ? Uint16Array.from({ length: n }, (_, k) => value(k))
      : dtype === 'int16'
        ? Int16Array.from({ length: n }, (_, k) => value(k))
        : Float32Array.from({ length: n }, (_, k) => value(k) / 7);
  return makeFrame(data, [H, W], { frameNumber: i });
}

/** The main thread's image of `frame` (the reference), with `text` burnt in. */
function mainThreadImage(frame: Frame, contrast: ReturnType<typeof parseContrast>, range: GreyRange, text = '') {
  const mapper = new ContrastMapper(contrast, range);
  mapper.calibrate([frame]);
  const image = mapper.map(frame);
  if (text) drawText(image, W, H, text, range);
  return image;
}

/** The window the main thread's mapper uses for `frame` (fixed windows as given). */
function mainThreadWindow(frame: Frame, contrast: ReturnType<typeof parseContrast>): readonly [number, number] {
  const mapper = new ContrastMapper(contrast);
  mapper.calibrate([frame]);
  return mapper.window!;
}

describe('video/mapping-thread', function () {
  this.timeout(60_000);

  for (const [dtype, spec, range] of [
    ['uint16', { min: 1000, max: 50000 }, 'video'], // the SIMD kernel
    ['uint16', { min: 1000, max: 50000 }, 'full'], // the SIMD kernel
    ['uint16', { min: 0.5, max: 40000.5 }, 'video'], // not an integer window: the table
    ['int16', { min: -20000, max: 20000 }, 'video'],
    ['float32', 'frame', 'full'], // the percentiles of each frame, on the thread
  ] as const) {
    it(`maps in a slot of the shared memory as the main thread does (${dtype}, ${JSON.stringify(spec)}, ${range})`, async () => {
      const thread = await threadReady();
      const contrast = parseContrast(spec);
      const tail = range === 'video' ? new Uint8Array((W * H) / 2).fill(128) : undefined;
      const before = thread.inSlots;
      for (let i = 0; i < 3; i++) {
        const frame = frameOf(i, dtype);
        const how =
          contrast.mode === 'frame'
            ? { low: contrast.low, high: contrast.high }
            : { window: mainThreadWindow(frame, contrast) };
        const image = await thread.map(frame, how, `#${i}`, range, { slot: true, tail });
        assert.ok(image.buffer instanceof SharedArrayBuffer, 'a view of the shared memory');
        assert.equal(image.length, W * H + (tail?.length ?? 0));
        const want = mainThreadImage(frame, contrast, range, `#${i}`);
        assert.ok(Buffer.from(image.subarray(0, W * H)).equals(Buffer.from(want)), `frame ${i}`);
        if (tail)
          assert.ok(
            image.subarray(W * H).every((v) => v === 128),
            'the tail follows the image',
          );
        thread.recycle(image);
      }
      assert.equal(thread.inSlots - before, 3);
    });
  }

  it('a slot given back is taken by the next frame; one not given back is not', async () => {
    const thread = await threadReady();
    const how = { window: [0, 65535] as const };
    const a = await thread.map(frameOf(0, 'uint16'), how, '', 'full', { slot: true });
    const b = await thread.map(frameOf(1, 'uint16'), how, '', 'full', { slot: true });
    assert.notEqual(b.byteOffset, a.byteOffset, 'a is still in use');
    const keep = Buffer.from(a);
    thread.recycle(a);
    const c = await thread.map(frameOf(2, 'uint16'), how, '', 'full', { slot: true });
    assert.equal(c.byteOffset, a.byteOffset, "a's slot again");
    assert.ok(!Buffer.from(c).equals(keep), 'with the new frame mapped into it');
    assert.ok(
      Buffer.from(b).equals(
        Buffer.from(mainThreadImage(frameOf(1, 'uint16'), parseContrast({ min: 0, max: 65535 }), 'full')),
      ),
    );
    thread.recycle(b);
    thread.recycle(c);
  });
});
