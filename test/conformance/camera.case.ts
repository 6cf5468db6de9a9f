/**
 * Conformance suite for cameras: state rules, scopes, triggers, pacing, ROI, orientation and frame
 * metadata. Backend-neutral: it uses only the public API and the hints below.
 *
 * ```ts
 * describeCamera(() => dummy.Camera.create({ width: 64, height: 48 }));
 * ```
 * @module
 */
import assert from 'node:assert/strict';
import {
  format,
  ParameterError,
  q,
  SelectionError,
  SoftLimitError,
  TransitionNotAllowed,
  UnitError,
  type Frame,
} from '../../core/index.js';
import type { Camera } from '../../devices/cameras/index.js';
import { delay, rejectsWith, since } from '../support/async.js';
import { captureLog } from '../support/log.js';

export interface CameraCaseOptions {
  /** A frame rate the camera reaches in AUTO mode, for the pacing test (default 50 Hz; null skips it). */
  frameRate?: number | null;
  /** Relative tolerance of the measured frame rate (default 0.5: within ±50 %). */
  frameRateTolerance?: number;
}

/** Conformance suite for cameras; `make` returns a fresh camera in standby. */
export function describeCamera<C extends Camera>(make: () => Promise<C>, options: CameraCaseOptions = {}): void {
  describe('Camera conformance', () => {
    const made: Camera[] = [];
    const fresh = async (): Promise<C> => {
      const c = await make();
      made.push(c);
      return c;
    };
    afterEach(async () => {
      for (const c of made.splice(0)) {
        await c.emergencyStop().catch(() => undefined);
        await c.disconnect();
      }
    });
    const px = async (c: Camera, name: string) => (await c.param(name).get()).toNumber('px') as number;

    it('starts in standby and refuses grab() and trigger() outside recording', async () => {
      const c = await fresh();
      assert.equal(await c.getState(), 'standby');
      const e = await rejectsWith(
        c.grab(),
        TransitionNotAllowed,
        new RegExp(`^${c.name}\\.grab\\(\\) is not allowed in state 'standby'`),
      );
      assert.equal(e.state, 'standby');
      await rejectsWith(c.trigger(), TransitionNotAllowed);
      await rejectsWith(c.stopRecording(), TransitionNotAllowed);
      assert.equal(await c.getState(), 'standby');
    });

    it('startRecording()/stopRecording() switch between standby and recording', async () => {
      const c = await fresh();
      await c.startRecording();
      assert.equal(await c.getState(), 'recording');
      await rejectsWith(c.startRecording(), TransitionNotAllowed, /in state 'recording'/);
      const frame = await c.grab();
      assert.ok(frame.data.length > 0);
      await c.stopRecording();
      assert.equal(await c.getState(), 'standby');
    });

    it('recording() scope records inside and returns to standby, also when the body throws', async () => {
      const c = await fresh();
      const result = await c.recording(async () => {
        assert.equal(await c.getState(), 'recording');
        return (await c.grab()).shape;
      });
      assert.equal(result.length, 2);
      assert.equal(await c.getState(), 'standby');
      await assert.rejects(
        c.recording(async () => {
          await c.grab();
          throw new Error('analysis failed');
        }),
        /analysis failed/,
      );
      assert.equal(await c.getState(), 'standby');
    });

    it('frames carry frameNumber (0, 1, 2 … per recording), a timestamp, shape and dtype', async () => {
      const c = await fresh();
      const t0 = Date.now();
      const frames: Frame[] = await c.recording(async () => [await c.grab(), await c.grab(), await c.grab()]);
      assert.deepEqual(
        frames.map((f) => f.metadata.frameNumber),
        [0, 1, 2],
      );
      for (const f of frames) {
        assert.ok(
          f.metadata.timestamp >= t0 - 1 && f.metadata.timestamp <= Date.now() + 1,
          'timestamp in ms since the epoch',
        );
        assert.equal(f.data.length, f.shape[0] * f.shape[1]);
        assert.equal(typeof f.dtype, 'string');
      }
      assert.ok(frames[1]!.metadata.timestamp >= frames[0]!.metadata.timestamp);
      const again = await c.recording(() => c.grab());
      assert.equal(again.metadata.frameNumber, 0, 'numbers restart with each recording');
    });

    it('stream() yields frames in AUTO mode and restores the trigger source, also when left early', async () => {
      const c = await fresh();
      await c.setTriggerSource('SOFTWARE');
      const seen: string[] = [];
      let n = 0;
      for await (const f of c.stream({ count: 3 })) {
        seen.push(await c.getTriggerSource());
        assert.equal(f.metadata.frameNumber, n++);
      }
      assert.equal(n, 3);
      assert.deepEqual(seen, ['AUTO', 'AUTO', 'AUTO']);
      assert.equal(await c.getTriggerSource(), 'SOFTWARE');
      assert.equal(await c.getState(), 'standby');
      for await (const _ of c.stream()) break;
      assert.equal(await c.getTriggerSource(), 'SOFTWARE');
      assert.equal(await c.getState(), 'standby');
    });

    it('stream() stops when its signal aborts', async () => {
      const c = await fresh();
      const ctl = new AbortController();
      let n = 0;
      await assert.rejects(
        (async () => {
          for await (const _ of c.stream({ signal: ctl.signal })) if (++n === 2) ctl.abort();
        })(),
        { name: 'AbortError' },
      );
      assert.equal(n, 2);
      assert.equal(await c.getState(), 'standby');
    });

    it('with a SOFTWARE trigger, grab() waits for trigger()', async () => {
      const c = await fresh();
      await c.setTriggerSource('SOFTWARE');
      await c.recording(async () => {
        let got = false;
        const grabbing = c.grab().then((f) => ((got = true), f));
        await delay(60);
        assert.ok(!got, 'no frame without a trigger');
        await c.trigger();
        const f = await grabbing;
        assert.ok(got);
        assert.equal(f.metadata.frameNumber, 0);
      });
    });

    it('a grab waiting for a trigger is aborted by its signal, staying in recording', async () => {
      const c = await fresh();
      await c.setTriggerSource('SOFTWARE');
      await c.recording(async () => {
        const ctl = new AbortController();
        const grabbing = c.grab({ signal: ctl.signal });
        await delay(10);
        const t0 = performance.now();
        ctl.abort();
        await assert.rejects(grabbing, { name: 'AbortError' });
        assert.ok(since(t0) < 50);
        assert.equal(await c.getState(), 'recording');
      });
      assert.equal(await c.getState(), 'standby');
    });

    if (options.frameRate !== null) {
      const rate = options.frameRate ?? 50;
      const tol = options.frameRateTolerance ?? 0.5;
      it(`paces AUTO frames to the frame rate (${rate} Hz)`, async () => {
        const c = await fresh();
        await c.setFrameRate(q(rate, 'Hz'));
        assert.equal(format(await c.getFrameRate()), `${rate} Hz`);
        const n = 6;
        const ms = await c.recording(async () => {
          await c.grab();
          const t0 = performance.now();
          for (let i = 1; i < n; i++) await c.grab();
          return since(t0);
        });
        const measured = ((n - 1) / ms) * 1000;
        assert.ok(Math.abs(measured - rate) / rate <= tol, `measured ${measured.toFixed(1)} Hz for ${rate} Hz`);
      });
    }

    it('crops frames to the ROI and refuses an ROI outside the sensor, leaving it unchanged', async () => {
      const c = await fresh();
      const width = await px(c, 'roiWidth');
      const height = await px(c, 'roiHeight');
      assert.ok(width >= 4 && height >= 4, 'the suite needs a sensor of at least 4×4 px');
      await c.param('roiWidth').set(q(Math.floor(width / 2), 'px'));
      await c.param('roiHeight').set(q(Math.floor(height / 2), 'px'));
      await c.setRoiX0(q(1, 'px'));
      await c.setRoiY0(q(2, 'px'));
      const f = await c.recording(() => c.grab());
      assert.deepEqual(f.shape, [Math.floor(height / 2), Math.floor(width / 2)]);
      await rejectsWith(c.param('roiX0').set(q(width, 'px')), ParameterError, /outside the .* px sensor/);
      await rejectsWith(c.param('roiWidth').set(q(width, 'px')), ParameterError, /outside/);
      await rejectsWith(c.param('roiWidth').set(q(0, 'px')), ParameterError, /at least 1×1 px/);
      await rejectsWith(c.param('roiWidth').set(q(1.5, 'px')), ParameterError, /whole number of pixels/);
      await rejectsWith(c.param('roiY0').set(q(-1, 'px')), ParameterError);
      await rejectsWith(c.param('roiWidth').set(q('3 mm')), UnitError);
      assert.equal(await px(c, 'roiX0'), 1);
      assert.equal(await px(c, 'roiY0'), 2);
      assert.equal(await px(c, 'roiWidth'), Math.floor(width / 2));
      assert.equal(format(await c.getRoiWidth()), format(q(Math.floor(width / 2), 'px')));
      assert.equal(format(await c.getRoiHeight()), format(q(Math.floor(height / 2), 'px')));
      await c.setRoiWidth(q(2, 'px'));
      assert.equal((await c.recording(() => c.grab())).shape[1], 2);
    });

    it('rotate swaps the frame shape; mirror keeps it', async () => {
      const c = await fresh();
      await c.param('roiWidth').set(q(4, 'px'));
      await c.param('roiHeight').set(q(3, 'px'));
      await c.param('rotate').set(1);
      assert.deepEqual((await c.recording(() => c.grab())).shape, [4, 3]);
      await c.param('rotate').set(2);
      await c.param('mirror').set(true);
      assert.deepEqual((await c.recording(() => c.grab())).shape, [3, 4]);
    });

    it('validates parameter values: exposure ≥ 0, frame rate > 0, trigger sources, mirror, rotate', async () => {
      const c = await fresh();
      const exposure = await c.getExposureTime();
      await rejectsWith(
        c.setExposureTime(q('-1 ms')),
        SoftLimitError,
        new RegExp(`${c.name}\\.exposureTime: -1 ms is out of range \\[0 s, ∞\\]`),
      );
      await rejectsWith(c.setExposureTime(q('1 mm')), UnitError);
      await rejectsWith(c.setExposureTime(0.1 as never), UnitError);
      await rejectsWith(c.setFrameRate(q('0 Hz')), ParameterError, /frameRate must be > 0 Hz/);
      await rejectsWith(
        c.setTriggerSource('INTERNAL' as never),
        SelectionError,
        /allowed: "AUTO", "SOFTWARE", "EXTERNAL"/,
      );
      await rejectsWith(c.param('mirror').set('yes'), ParameterError, /mirror must be true or false/);
      await rejectsWith(c.param('rotate').set(5), ParameterError, /rotate must be 0, 1, 2 or 3/);
      await rejectsWith(c.param('rotate').set(NaN), ParameterError);
      assert.equal(format(await c.getExposureTime()), format(exposure));
      await c.setExposureTime(q('2 ms'));
      assert.equal(format((await c.getExposureTime()).to('ms')), '2 ms');
    });

    it('logs parameter sets', async () => {
      const c = await fresh();
      const lines = await captureLog(() => c.setTriggerSource('SOFTWARE'));
      assert.ok(
        lines.some((l) => l.message === `set ${c.kind}::${c.name}.triggerSource='SOFTWARE'`),
        JSON.stringify(lines),
      );
    });

    it('emergencyStop() ends a recording', async () => {
      const c = await fresh();
      await c.startRecording();
      await c.emergencyStop();
      assert.equal(await c.getState(), 'standby');
    });
  });
}
