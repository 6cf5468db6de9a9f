import assert from 'node:assert/strict';
import { makeFrame, ParameterError, q, toNumber, type Device, type Frame } from '../../../core/index.js';
import * as cameras from '../../../devices/cameras/dummy.js';
import * as motors from '../../../devices/motors/dummy.js';
import { Accumulator } from '../../../addons/local/index.js';
import {
  ContinuousSpiralTomography,
  ContinuousTomography,
  frames,
  Radiography,
  spiralTomograms,
  SteppedSpiralTomography,
  SteppedTomography,
  tomoAngularStep,
  tomoMaxSpeed,
  tomoProjectionsNumber,
  type Exposure,
  type RadiographyOptions,
  type SpiralOptions,
  type TomographyOptions,
} from '../../../experiments/index.js';
import { DummyWalker } from '../../../walkers/index.js';
import { within } from '../../support/async.js';
import { rig } from './rig.js';

/** An exposure part that only records what it was asked to do. */
const exposures: string[] = [];
function recording(device: Device): Exposure {
  return {
    device,
    start: async () => void exposures.push('start'),
    stop: async () => void exposures.push('stop'),
  };
}

function close(actual: number, expected: number, eps = 1e-9, what = 'value'): void {
  assert.ok(Math.abs(actual - expected) <= eps, `${what}: ${actual} is not within ${eps} of ${expected}`);
}

describe('experiments/imaging', () => {
  describe('tomography helpers', () => {
    it('computes the angular step, number of projections and maximum speed', () => {
      close(toNumber(tomoAngularStep(100), 'rad'), Math.atan(0.02));
      close(toNumber(tomoAngularStep(q(100, 'px')), 'deg'), (Math.atan(0.02) * 180) / Math.PI);
      assert.equal(tomoProjectionsNumber(100), 158);
      assert.equal(tomoProjectionsNumber(q('100 px')), 158);
      assert.equal(tomoProjectionsNumber(2048), Math.ceil(Math.PI / Math.atan(2 / 2048)));
      close(toNumber(tomoMaxSpeed(100, q('50 Hz')), 'rad/s'), Math.atan(0.02) * 50);
      assert.throws(() => tomoAngularStep(0), ParameterError);
      assert.throws(() => tomoAngularStep(q('1 mm')), { name: 'UnitError' });
    });

    it('counts spiral tomograms as |height / shift| + 1', () => {
      assert.equal(spiralTomograms(10, 2), 6);
      assert.equal(spiralTomograms(10, -2), 6);
      assert.equal(spiralTomograms(0, 1), 1);
      assert.throws(() => spiralTomograms(1, 0), ParameterError);
    });
  });

  describe('frames()', () => {
    it('triggers n frames in SOFTWARE mode and restores the trigger source and standby', async () => {
      const camera = await cameras.DummyCamera.create({ width: 4, height: 2, frameRate: q('1 Hz') });
      await camera.setTriggerSource('EXTERNAL');
      const seen: string[] = [];
      const got: Frame[] = [];
      const t0 = performance.now();
      for await (const frame of frames(3, camera)) {
        seen.push(await camera.getTriggerSource());
        got.push(frame);
      }
      // Triggered frames do not wait for the 1 Hz frame rate (free-running, 3 frames would take 2 s).
      assert.ok(performance.now() - t0 < 1000);
      assert.deepEqual(seen, ['SOFTWARE', 'SOFTWARE', 'SOFTWARE']);
      assert.deepEqual(
        got.map((f) => f.metadata.frameNumber),
        [0, 1, 2],
      );
      assert.equal(await camera.getTriggerSource(), 'EXTERNAL');
      assert.equal(await camera.getState(), 'standby');
      // Stopping early and aborting also clean up.
      for await (const _ of frames(10, camera)) break;
      assert.equal(await camera.getState(), 'standby');
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(
        async () => {
          for await (const _ of frames(10, camera, { signal: controller.signal }));
        },
        { name: 'AbortError' },
      );
      assert.equal(await camera.getTriggerSource(), 'EXTERNAL');
      assert.equal(await camera.getState(), 'standby');
      await camera.disconnect();
    });
  });

  describe('experiments', () => {
    let r: Awaited<ReturnType<typeof rig>>;
    beforeEach(async () => {
      r = await rig();
      exposures.length = 0;
    });
    afterEach(async () => {
      await r.close();
    });

    function base(extra: Partial<RadiographyOptions> = {}): RadiographyOptions {
      return {
        walker: new DummyWalker(),
        camera: r.camera,
        exposure: recording(r.shutter),
        flatMotor: r.flatMotor,
        radioPosition: q('2 mm'),
        flatPosition: q('12 mm'),
        numDarks: 2,
        numFlats: 2,
        numProjections: 8,
        ...extra,
      };
    }

    it('radiography: acquisitions, exposures, positions and defaults', async () => {
      const exp = await Radiography.create(
        base({ numDarks: undefined, numFlats: undefined, numProjections: undefined }),
      );
      assert.deepEqual(
        exp.acquisitions.map((a) => a.name),
        ['darks', 'flats', 'radios'],
      );
      assert.equal(await exp.numDarks.get(), 200);
      assert.equal(await exp.numFlats.get(), 200);
      assert.equal(await exp.numProjections.get(), 3000);
      assert.equal(toNumber(await exp.flatPosition.get(), 'mm'), 12);
      await exp.numDarks.set(1);
      await exp.numFlats.set(1);
      await exp.numProjections.set(2);
      await r.flatMotor.setPosition(q('-3 mm'));
      await within(5000, exp.run().done);
      assert.deepEqual(
        r.shots.map((s) => s.flat),
        [-3, 12, 2, 2],
      );
      // darks: stop; flats: start; radios: start then stop; finish: stop.
      assert.deepEqual(exposures, ['stop', 'start', 'start', 'stop', 'stop']);
      assert.equal(toNumber(await r.flatMotor.getPosition(), 'mm'), -3);
    });

    it('rejects bad options clearly', async () => {
      await assert.rejects(Radiography.create({ ...base(), numDarks: -1 }), {
        name: 'OptionError',
        message: /numDarks/,
      });
      await assert.rejects(Radiography.create({ ...base(), radioPosition: q('1 deg') }), {
        name: 'OptionError',
        message: /radioPosition/,
      });
      await assert.rejects(Radiography.create({ ...base(), bogus: 1 } as never), {
        name: 'OptionError',
        message: /unknown option 'bogus'/,
      });
      await assert.rejects(SteppedTomography.create({ ...base(), tomographyMotor: r.flatMotor }), {
        name: 'OptionError',
        message: /rotation motor/,
      });
      await assert.rejects(ContinuousTomography.create({ ...base(), tomographyMotor: r.steppedMotor }), {
        name: 'OptionError',
        message: /continuous motor/,
      });
      await assert.rejects(Radiography.create({ ...base(), flatMotor: undefined } as never), {
        name: 'OptionError',
        message: /'flatMotor' is required/,
      });
    });

    it('stepped tomography visits start + i·range/N in order, one triggered frame each', async () => {
      r.use('stepped');
      await r.steppedMotor.setPosition(q('7 deg'));
      const exp = await SteppedTomography.create({
        ...base({ numProjections: 6 }),
        tomographyMotor: r.steppedMotor,
        startAngle: q('10 deg'),
        angularRange: q('90 deg'),
      });
      const acc = await Accumulator.create(exp, { acquisitions: ['radios'] });
      await within(5000, exp.run().done);
      const radios = r.shots.slice(4);
      const expected = [0, 1, 2, 3, 4, 5].map((i) => 10 + i * 15);
      radios.forEach((s, i) => close(s.angle, expected[i]!, 1e-9, `angle ${i}`));
      assert.deepEqual(
        acc.getItems('radios').map((f) => f.metadata.angle),
        expected,
      );
      assert.deepEqual(
        acc.getItems('radios').map((f) => f.metadata.image_key),
        Array(6).fill(0),
      );
      // Darks and flats were taken at the start angle, the motor is back at 7° and the camera restored.
      assert.equal(toNumber(await r.steppedMotor.getPosition(), 'deg'), 7);
      assert.equal(await r.camera.getTriggerSource(), 'AUTO');
      assert.equal(toNumber(await exp.angularRange.get(), 'deg'), 90);
    });

    it('cancelling a stepped tomography mid-move stops the motor, restores it and the camera', async () => {
      const slow = await motors.DummyRotationMotor.create({ motionVelocity: q('200 deg/s') });
      const exp = await SteppedTomography.create({
        ...base({ numProjections: 50, numDarks: 0, numFlats: 0 }),
        tomographyMotor: slow,
        angularRange: q('180 deg'),
      });
      await r.camera.setTriggerSource('EXTERNAL');
      const run = exp.run();
      while (toNumber(await slow.getPosition(), 'deg') < 4) await new Promise((res) => setTimeout(res, 2));
      assert.equal(await slow.getState(), 'moving');
      await within(3000, run.cancel());
      assert.equal(await exp.state.get(), 'cancelled');
      assert.equal(await slow.getState(), 'standby');
      assert.equal(toNumber(await slow.getPosition(), 'deg'), 0);
      assert.equal(await r.camera.getState(), 'standby');
      assert.equal(await r.camera.getTriggerSource(), 'EXTERNAL');
      assert.ok(!exp.numProjections.locked);
      await slow.disconnect();
    });

    it('tomography defaults to 180° from 0°', async () => {
      r.use('stepped');
      const exp = await SteppedTomography.create({
        ...base({ numProjections: 4, numDarks: 0, numFlats: 0 }),
        tomographyMotor: r.steppedMotor,
      });
      assert.equal(toNumber(await exp.angularRange.get(), 'deg'), 180);
      assert.equal(toNumber(await exp.startAngle.get(), 'deg'), 0);
      await within(5000, exp.run().done);
      assert.deepEqual(
        r.shots.map((s) => Math.round(s.angle * 1e9) / 1e9),
        [0, 45, 90, 135],
      );
    });

    it('continuous tomography rotates at fps·range/N, then stops the motor and restores it', async () => {
      const exp = await ContinuousTomography.create({
        ...base({ numProjections: 20, numDarks: 1, numFlats: 1 }),
        tomographyMotor: r.tomographyMotor,
      });
      const acc = await Accumulator.create(exp, { acquisitions: ['radios'] });
      close(toNumber(await exp.getVelocity(), 'deg/s'), (2000 * 180) / 20);
      await r.tomographyMotor.setPosition(q('3 deg'));
      await within(5000, exp.run().done);
      const radios = r.shots.slice(2);
      assert.equal(radios.length, 20);
      for (const s of radios) close(s.velocity, 18000, 1e-6, 'velocity while recording');
      // Darks and flats were taken at rest.
      assert.deepEqual(
        r.shots.slice(0, 2).map((s) => s.velocity),
        [0, 0],
      );
      assert.deepEqual(
        acc.getItems('radios').map((f) => f.metadata.angle),
        Array.from({ length: 20 }, (_, i) => i * 9),
      );
      assert.equal(await r.tomographyMotor.getState(), 'standby');
      assert.equal(toNumber(await r.tomographyMotor.getVelocity(), 'deg/s'), 0);
      assert.equal(toNumber(await r.tomographyMotor.getPosition(), 'deg'), 3);
    });

    const spiral = (): SpiralOptions => ({
      verticalMotor: r.verticalMotor,
      startPositionVertical: q('1 mm'),
      sampleHeight: q('1 mm'),
      verticalShiftPerTomogram: q('0.5 mm'),
    });

    it('stepped spiral tomography: N·numTomograms frames, rotating and moving up in steps', async () => {
      r.use('stepped');
      const opts: TomographyOptions & SpiralOptions = {
        ...base({ numProjections: 4, numDarks: 0, numFlats: 0 }),
        tomographyMotor: r.steppedMotor,
        ...spiral(),
      };
      const exp = await SteppedSpiralTomography.create(opts);
      assert.equal(await exp.numTomograms.get(), 3);
      await within(5000, exp.run().done);
      assert.equal(r.shots.length, 12);
      r.shots.forEach((s, i) => {
        close(s.angle, i * 45, 1e-9, `angle ${i}`);
        close(s.vertical, 1 + i * 0.125, 1e-9, `height ${i}`);
      });
      assert.equal(toNumber(await r.verticalMotor.getPosition(), 'mm'), 0);
    });

    it('continuous spiral tomography: vertical velocity = shift·fps/N, both motors stopped afterwards', async () => {
      const opts: TomographyOptions & SpiralOptions = {
        ...base({ numProjections: 10, numDarks: 0, numFlats: 0 }),
        tomographyMotor: r.tomographyMotor,
        ...spiral(),
      };
      const exp = await ContinuousSpiralTomography.create(opts);
      close(toNumber(await exp.getVerticalVelocity(), 'mm/s'), (0.5 * 2000) / 10);
      assert.equal(await exp.numTomograms.get(), 3);
      await within(5000, exp.run().done);
      assert.equal(r.shots.length, 30);
      for (const s of r.shots) {
        close(s.verticalVelocity, 100, 1e-6, 'vertical velocity');
        close(s.velocity, 36000, 1e-6, 'rotation velocity');
      }
      assert.equal(await r.verticalMotor.getState(), 'standby');
      assert.equal(await r.tomographyMotor.getState(), 'standby');
      assert.equal(toNumber(await r.verticalMotor.getPosition(), 'mm'), 0);
    });

    it('an error in the middle of a run still restores the motors and unlocks the settings', async () => {
      let n = 0;
      const failing = await cameras.DummyCamera.create({
        width: 2,
        height: 2,
        frameRate: q('2000 Hz'),
        render: () => {
          if (++n === 4) throw new Error('sensor on fire');
          return makeFrame(new Uint16Array(4), [2, 2]);
        },
      });
      const exp = await Radiography.create(base({ camera: failing }));
      await r.flatMotor.setPosition(q('5 mm'));
      await assert.rejects(exp.run().done, /sensor on fire/);
      assert.equal(await exp.state.get(), 'error');
      assert.ok(!exp.numDarks.locked);
      assert.equal(toNumber(await r.flatMotor.getPosition(), 'mm'), 5);
      assert.equal(exposures.at(-1), 'stop');
      await failing.disconnect();
    });
  });
});
