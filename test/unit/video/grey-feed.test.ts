import assert from 'node:assert/strict';
import { makeFrame, sleep, type Frame } from '../../../core/index.js';
import { ContrastMapper, drawText, overlayText, parseContrast, type Contrast } from '../../../video/index.js';
import { toVideoRange, type GreyRange } from '../../../video/grey-kernel.js';
import { GreyFeed } from '../../../video/grey-feed.js';
import { MappingThread } from '../../../video/mapping-thread.js';
import { VideoError } from '../../../video/errors.js';

const W = 96;
const H = 64;

/** Frame i of `dtype`: a ramp with an offset, so every frame differs. */
function frameOf(i: number, dtype: 'uint16' | 'int16' | 'float32' | 'uint8'): Frame {
  const n = W * H;
  const value = (k: number) => ((k * 37 + i * 101) % 4000) - (dtype === 'int16' ? 2000 : 0);
  const data =
    dtype === 'uint16'
      ? Uint16Array.from({ length: n }, (_, k) => value(k))
      : dtype === 'int16'
        ? Int16Array.from({ length: n }, (_, k) => value(k))
        : dtype === 'float32'
          ? Float32Array.from({ length: n }, (_, k) => value(k) / 7)
          : Uint8Array.from({ length: n }, (_, k) => value(k) & 255);
  return makeFrame(data, [H, W], { frameNumber: i, angle: i * 1.5 });
}

/** What the main thread's mapping gives for these frames (calibrated on the first `frames`). */
function expected(frames: Frame[], contrast: Contrast | undefined, overlay: boolean, range: GreyRange): Uint8Array[] {
  const mapper = new ContrastMapper(contrast);
  mapper.calibrate(frames.slice(0, mapper.calibrationFrames));
  return frames.map((f) => {
    const image = mapper.map(f);
    if (overlay) drawText(image, W, H, overlayText(f.metadata, ['frameNumber', 'angle']));
    // The video range is the full range's image, value by value through VIDEO_LUMA.
    if (range === 'video') toVideoRange(image);
    return image;
  });
}

/** Waits until the process's mapping thread runs (it starts on first use). */
async function threadReady(): Promise<void> {
  const thread = MappingThread.shared();
  for (let i = 0; i < 600 && !thread.ready; i++) await sleep(50);
  assert.ok(thread.ready, 'the mapping thread started');
}

describe('video/grey-feed', function () {
  this.timeout(60_000);

  for (const [dtype, spec, range] of [
    ['uint16', { min: 100, max: 3000 }, 'full'],
    ['uint16', 'auto', 'full'],
    ['int16', { min: -1000, max: 1500 }, 'full'],
    ['float32', 'frame', 'full'],
    ['uint8', undefined, 'full'],
    ['uint16', { min: 100, max: 3000 }, 'video'],
    ['float32', 'frame', 'video'],
    ['uint8', undefined, 'video'],
  ] as const) {
    const what = `${dtype}, contrast ${JSON.stringify(spec)}, ${range} range`;
    it(`the mapping thread gives the main thread's images, in order (${what})`, async () => {
      await threadReady();
      const before = MappingThread.shared().mapped;
      const contrast = spec === undefined ? undefined : parseContrast(spec);
      const frames = Array.from({ length: 14 }, (_, i) => frameOf(i, dtype));
      const got: Array<{ image: Uint8Array; frame: number }> = [];
      const feed = new GreyFeed(
        'test',
        contrast,
        ['frameNumber', 'angle'],
        async (image, frame) => {
          await sleep(1); // a slow sink: frames queue up and are mapped ahead
          got.push({ image, frame: frame.metadata.frameNumber });
        },
        { threadPixels: 0, range: () => range },
      );
      for (const f of frames) await feed.push(f);
      await feed.flush();
      assert.equal(feed.range, range);
      assert.deepEqual(
        got.map((g) => g.frame),
        frames.map((_, i) => i),
      );
      const want = expected(frames, contrast, true, range);
      for (const [i, g] of got.entries()) assert.ok(Buffer.from(g.image).equals(Buffer.from(want[i]!)), `frame ${i}`);
      // uint8 frames without a contrast are copied on the main thread; the others went to the thread.
      assert.equal(MappingThread.shared().mapped - before, spec === undefined ? 0 : frames.length);
    });
  }

  it('recycle: the mapping thread maps later frames into the images the sink is done with', async () => {
    await threadReady();
    const contrast = parseContrast({ min: 100, max: 3000 });
    const frames = Array.from({ length: 30 }, (_, i) => frameOf(i, 'uint16'));
    const copies: Buffer[] = [];
    const before = MappingThread.shared().reused;
    const inSlotsBefore = MappingThread.shared().inSlots;
    const feed = new GreyFeed(
      'test',
      contrast,
      [],
      async (image) => {
        await sleep(1);
        copies.push(Buffer.from(image)); // a copy: the image itself is reused once this returns
      },
      { threadPixels: 0, recycle: true },
    );
    for (const f of frames) await feed.push(f);
    await feed.flush();
    const want = expected(frames, contrast, false, 'full');
    for (const [i, copy] of copies.entries()) assert.ok(copy.equals(Buffer.from(want[i]!)), `frame ${i}`);
    // Every frame but the first few (mapped ahead before the sink gave one back) reused an image.
    const reused = MappingThread.shared().reused - before;
    assert.ok(reused >= 30 - 8, `${reused} of 30 frames mapped into a given-back image`);
    // …in the slots of the shared memory: the images the sink got were views of it.
    assert.equal(MappingThread.shared().inSlots - inSlotsBefore, 30);
  });

  it('maps ahead of a slow sink, at most depth frames, and reports a sink failure on a later push', async () => {
    let inSink = 0;
    let written = 0;
    let release: (() => void) | undefined;
    const feed = new GreyFeed(
      'test',
      parseContrast({ min: 0, max: 4000 }),
      [],
      async () => {
        inSink++;
        await new Promise<void>((r) => (release = r));
        if (++written === 3) throw new VideoError('the sink broke');
      },
      { depth: 3 },
    );
    await feed.push(frameOf(0, 'uint16'));
    await feed.push(frameOf(1, 'uint16'));
    // The third push waits: three frames are on their way (one in the sink, two mapped).
    let third = false;
    const pushing = feed.push(frameOf(2, 'uint16')).then(() => (third = true));
    await sleep(20);
    assert.equal(inSink, 1);
    assert.equal(third, false, 'push waits while depth frames are queued');
    release!();
    await pushing;
    await sleep(5);
    release!();
    await sleep(5);
    release!(); // the third write fails
    await sleep(5);
    await assert.rejects(feed.push(frameOf(3, 'uint16')), /the sink broke/);
    await assert.rejects(feed.flush(), /the sink broke/);
  });
});
