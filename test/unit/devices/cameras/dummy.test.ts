import assert from 'node:assert/strict';
import {
  abortAll,
  makeFrame,
  OptionError,
  ParameterError,
  preciseNow,
  q,
  registeredDevices,
  runningOperations,
} from '../../../../core/index.js';
import * as dummy from '../../../../devices/cameras/dummy.js';
import { describeCamera } from '../../../conformance/camera.case.js';
import { rejectsWith } from '../../../support/async.js';

/**
 * The 3×4 frame
 *   [[ 1,  2,  3,  4],
 *    [ 5,  6,  7,  8],
 *    [ 9, 10, 11, 12]]
 * and what numpy makes of it (expected arrays hard-coded from numpy 1.26).
 */
const frame = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const numpy: Record<string, { shape: [number, number]; data: number[] }> = {
  // np.fliplr(a)
  'mirror k=0': { shape: [3, 4], data: [4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9] },
  // np.rot90(a, 1)
  'k=1': { shape: [4, 3], data: [4, 8, 12, 3, 7, 11, 2, 6, 10, 1, 5, 9] },
  // np.rot90(a, 2)
  'k=2': { shape: [3, 4], data: [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1] },
  // np.rot90(a, 3)
  'k=3': { shape: [4, 3], data: [9, 5, 1, 10, 6, 2, 11, 7, 3, 12, 8, 4] },
  // np.rot90(np.fliplr(a), 1)
  'mirror k=1': { shape: [4, 3], data: [1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12] },
  // np.rot90(np.fliplr(a), 3)
  'mirror k=3': { shape: [4, 3], data: [12, 8, 4, 11, 7, 3, 10, 6, 2, 9, 5, 1] },
};

function known(): Promise<dummy.DummyCamera> {
  return dummy.DummyCamera.create({
    name: 'cam',
    simulate: false,
    background: makeFrame<'uint16'>(new Uint16Array(frame), [3, 4]),
    frameRate: q('1000 Hz'),
  });
}

describe('devices/cameras/dummy', () => {
  describeCamera(() => dummy.DummyCamera.create({ width: 64, height: 48, frameRate: q('1000 Hz') }));

  it('stream(): each grab is a tracked operation while it runs (none between frames), so abortAll() ends the stream', async () => {
    const c = await dummy.DummyCamera.create({ width: 8, height: 8, frameRate: q('4 Hz') });
    const between: number[] = [];
    let n = 0;
    let aborted = -1;
    await assert.rejects(
      (async () => {
        for await (const _ of c.stream()) {
          between.push(runningOperations());
          if (++n === 2) {
            // The next grab waits for the 4 Hz frame clock: poll until it runs, then abort it.
            const deadline = Date.now() + 20_000;
            const abortWhenGrabbing = () => {
              if (runningOperations() > 0 || Date.now() > deadline) aborted = abortAll();
              else setTimeout(abortWhenGrabbing, 1);
            };
            setTimeout(abortWhenGrabbing, 1);
          }
        }
      })(),
      { name: 'AbortError' },
    );
    assert.deepEqual(between, [0, 0]);
    assert.equal(aborted, 1, 'the grab waiting for its frame was the one operation running');
    assert.equal(await c.getState(), 'standby');
    assert.equal(runningOperations(), 0);
    await c.disconnect();
  });

  it('has a 640×480 uint16 sensor of 6.5 µm pixels by default', async () => {
    const c = await dummy.DummyCamera.create({ name: 'cam' });
    const f = await c.recording(() => c.grab());
    assert.deepEqual(f.shape, [480, 640]);
    assert.equal(f.dtype, 'uint16');
    assert.equal(f.metadata.camera, 'cam');
    assert.equal((await c.param('sensorPixelWidth').get()).toNumber('um'), 6.5);
  });

  it('simulates Poisson noise of mean background + exposure·1e5', async () => {
    const c = await dummy.DummyCamera.create({ width: 100, height: 100, exposureTime: q('1 ms') });
    const f = await c.recording(() => c.grab());
    const data = f.data as Uint16Array;
    let sum = 0;
    let sq = 0;
    for (const v of data) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / data.length;
    const variance = sq / data.length - mean * mean;
    // background 1 + 1e-3·1e5 = 101; Poisson: variance ≈ mean.
    assert.ok(Math.abs(mean - 101) < 1, `mean ${mean}`);
    assert.ok(Math.abs(variance - 101) < 15, `variance ${variance}`);
  });

  it('with simulate: false returns the background, cropped to the ROI', async () => {
    const c = await known();
    assert.deepEqual(Array.from((await c.recording(() => c.grab())).data), frame);
    await c.param('roiWidth').set(q('2 px'));
    await c.param('roiHeight').set(q('2 px'));
    await c.param('roiX0').set(q('1 px'));
    await c.param('roiY0').set(q('1 px'));
    const f = await c.recording(() => c.grab());
    assert.deepEqual(f.shape, [2, 2]);
    assert.deepEqual(Array.from(f.data), [6, 7, 10, 11]);
  });

  for (const [name, expected] of Object.entries(numpy)) {
    it(`mirror/rotate (${name}) gives what numpy's fliplr/rot90 give`, async () => {
      const c = await known();
      await c.param('mirror').set(name.startsWith('mirror'));
      await c.param('rotate').set(Number(name.at(-1)));
      const f = await c.recording(() => c.grab());
      assert.deepEqual(f.shape, expected.shape);
      assert.deepEqual(Array.from(f.data), expected.data);
    });
  }

  it('restores a stashed ROI with device restore() (no lost updates between the four ROI parameters)', async () => {
    const c = await dummy.DummyCamera.create({ width: 64, height: 48 });
    await c.stash();
    await c.param('roiWidth').set(q('10 px'));
    await c.param('roiHeight').set(q('8 px'));
    await c.restore();
    assert.equal((await c.param('roiWidth').get()).toNumber('px'), 64);
    assert.equal((await c.param('roiHeight').get()).toNumber('px'), 48);
  });

  it('refuses to change the ROI while recording', async () => {
    const c = await dummy.DummyCamera.create({ width: 64, height: 48 });
    await c.recording(() => rejectsWith(c.param('roiWidth').set(q('10 px')), ParameterError, /only change in standby/));
  });

  it('render: makes frames from a function of the index and ROI', async () => {
    const c = await dummy.DummyCamera.create({
      width: 4,
      height: 2,
      render: (i, roi) => makeFrame(new Float32Array(roi.width * roi.height).fill(i), [roi.height, roi.width]),
    });
    const frames = await c.recording(async () => [await c.grab(), await c.grab()]);
    assert.deepEqual(
      frames.map((f) => [f.dtype, f.data[0], f.metadata.frameNumber]),
      [
        ['float32', 0, 0],
        ['float32', 1, 1],
      ],
    );
  });

  it('paces high frame rates (1 kHz): never faster than the rate, not capped by timer granularity', async () => {
    const c = await dummy.DummyCamera.create({ width: 8, height: 8, simulate: false, frameRate: q('1000 Hz') });
    const n = 100;
    const ms = await c.recording(async () => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await c.grab();
      return performance.now() - t0;
    });
    // 100 frames at 1 kHz: 99 ms by the schedule (at most 5 ms of catch-up); generous upper bound for loaded CI machines.
    assert.ok(ms > 90 && ms < 400, `${n} frames at 1 kHz took ${ms.toFixed(1)} ms`);
  });

  it('bufferFrames: a consumer less than that many frames behind loses none; further behind, the oldest', async () => {
    /** Frames lost (gaps in the exposure times) when the consumer stalls once for `stallMs`. */
    async function lostAfterStall(bufferFrames: number, stallMs: number): Promise<number> {
      const c = await dummy.DummyCamera.create({
        width: 8,
        height: 8,
        simulate: false,
        frameRate: q('100 Hz'),
        bufferFrames,
      });
      const stamps = await c.recording(async () => {
        const t: number[] = [(await c.grab()).metadata.timestamp];
        await new Promise((r) => setTimeout(r, stallMs));
        for (let i = 0; i < 40; i++) t.push((await c.grab()).metadata.timestamp);
        return t;
      });
      await c.disconnect();
      let lost = 0;
      for (let i = 1; i < stamps.length; i++) lost += Math.round((stamps[i]! - stamps[i - 1]!) / 10) - 1;
      return lost;
    }
    assert.equal(await lostAfterStall(30, 150), 0, 'a 150 ms stall fits a 30-frame buffer at 100 Hz');
    const lost = await lostAfterStall(3, 150);
    assert.ok(lost >= 8 && lost <= 14, `a 150 ms stall with a 3-frame buffer loses about 11 frames, lost ${lost}`);
  });

  it('stamps each frame in whole ms and in whole µs, the first at the start of recording; a dry run knows both', async () => {
    const c = await dummy.DummyCamera.create({ width: 8, height: 4, simulate: false, frameRate: q('100 Hz') });
    const estimate = await c.estimateFrames();
    let before = 0;
    const frames = await c.recording(async () => {
      before = preciseNow();
      return [await c.grab(), await c.grab()];
    });
    for (const { metadata: m } of frames) {
      assert.ok(Number.isSafeInteger(m.timestampUs), `timestampUs ${m.timestampUs}`);
      assert.equal(m.timestamp, Math.round(m.timestampUs! / 1000));
      assert.equal(
        JSON.stringify(m).length,
        JSON.stringify(estimate.metadata(m.frameNumber)).length,
        'exact TIFF bytes',
      );
    }
    // the first exposure is when recording started (the frame clock starts there), not a tick later
    const first = frames[0]!.metadata.timestampUs! / 1000;
    assert.ok(first <= before + 0.001, `first exposure ${(first - before).toFixed(3)} ms after recording started`);
    assert.ok(frames[1]!.metadata.timestampUs! - frames[0]!.metadata.timestampUs! === 10_000, 'one period later');
    await c.disconnect();
  });

  it('refuses bad options with OptionError and registers nothing', async () => {
    const n = registeredDevices().length;
    await rejectsWith(
      dummy.DummyCamera.create({ width: 0 }),
      OptionError,
      /option 'width' must be an integer in \[1, 65536\], got 0/,
    );
    await rejectsWith(dummy.DummyCamera.create({ width: 10.5 }), OptionError);
    await rejectsWith(dummy.DummyCamera.create({ frameRate: q('1 s') }), OptionError, /frameRate/);
    await rejectsWith(
      dummy.DummyCamera.create({ background: new Uint16Array(4) } as never),
      OptionError,
      /must be a uint16 frame/,
    );
    await rejectsWith(dummy.DummyCamera.create({ fps: 10 } as never), OptionError, /unknown option 'fps'/);
    assert.equal(registeredDevices().length, n);
  });
});
