import assert from 'node:assert/strict';
import {
  format,
  HardLimitError,
  makeFrame,
  NotConnectedError,
  OptionError,
  q,
  SoftLimitError,
} from '../../../../core/index.js';
import { Accumulator } from '../../../../addons/local/index.js';
import * as cameras from '../../../../devices/cameras/dummy.js';
import * as dummy from '../../../../devices/motors/dummy.js';
import * as tango from '../../../../devices/motors/tango.js';
import * as shutters from '../../../../devices/shutters/tango.js';
import { synchrotron } from '../../../../experiments/index.js';
import { DummyWalker } from '../../../../walkers/index.js';
import {
  describeContinuousMotor,
  describeLinearMotor,
  describeRotationMotor,
} from '../../../conformance/motor.case.js';
import { rejectsWith, within } from '../../../support/async.js';
import { useMotorServer } from './fixtures/motor-server.js';

describe('devices/motors/tango', function () {
  this.timeout(30000);
  const fixture = useMotorServer();

  const prepare = (device: string, speed: number, hard: { lower?: number; upper?: number } = {}) =>
    fixture.server.motor(device, speed, hard);
  const switches = { lowerLimitAttribute: 'lower_limit_switch', upperLimitAttribute: 'upper_limit_switch' };

  describe('LinearMotor', () => {
    describeLinearMotor(
      async ({ speed }) =>
        tango.TangoLinearMotor.create({
          device: await prepare('motor/sim/1', speed === 'slow' ? 2 : 1e4, { upper: 5 }),
          ...switches,
        }),
      { positions: [q('0 mm'), q('1 mm')], hardUpper: q('5 mm'), slowMoveMs: 500 },
    );

    it('maps min_value/max_value of the position attribute to external limits', async () => {
      const m = await tango.TangoLinearMotor.create({ name: 'lin', device: await prepare('motor/sim/1', 1e4) });
      try {
        await rejectsWith(
          m.setPosition(q('1001 mm')),
          SoftLimitError,
          /^lin\.position: .* is out of range \[-1000 mm, 1000 mm\]$/,
        );
        await m.setPosition(q('2 mm'));
        assert.equal(format(await m.getPosition()), '2 mm');
      } finally {
        await m.disconnect();
      }
    });

    it('estimates a move from the speed the device is set to and its limits, without moving', async () => {
      const m = await tango.TangoLinearMotor.create({ name: 'est', device: await prepare('motor/sim/1', 20) });
      try {
        const plan = await m.estimateMove(0, 10);
        assert.equal(plan.durationMs, 500, '10 mm at the device speed of 20 mm/s');
        assert.deepEqual(plan.limits, []);
        await m.motion.proxy.writeAttribute('speed', 40);
        await new Promise((r) => setTimeout(r, 600)); // past the half second a dry run reuses the readings
        assert.equal(
          (await m.estimateMove(0, 10)).durationMs,
          250,
          'read from the device (a dry run reuses a reading for half a second)',
        );
        assert.match(
          (await m.estimateMove(0, 1001)).limits.join(),
          /^est\.position: 1001 mm is out of range \[-1000 mm, 1000 mm\]$/,
        );
        assert.equal(format(await m.getPosition()), '0 mm', 'nothing moved');
        const started = performance.now();
        await m.setPosition(q('10 mm'));
        const took = performance.now() - started;
        assert.ok(took >= 240 && took < 2000, `the move took ${took} ms, estimated 250 ms`);
      } finally {
        await m.disconnect();
      }
    });

    it('trapezoidMs: d/v + v/a when the top speed is reached, 2·√(d/a) otherwise', () => {
      assert.equal(tango.trapezoidMs(10, 5, Infinity), 2000);
      assert.equal(tango.trapezoidMs(10, 5, 5), 3000);
      assert.equal(tango.trapezoidMs(1, 5, 4), 1000);
      assert.equal(tango.trapezoidMs(0, 5, 4), 0);
    });

    it('works without end-switch attributes: ALARM means hard limit', async () => {
      const m = await tango.TangoLinearMotor.create({
        name: 'lin',
        device: await prepare('motor/sim/1', 1e4, { upper: 3 }),
      });
      try {
        await rejectsWith(
          m.setPosition(q('4 mm')),
          HardLimitError,
          'lin.position: hit the hard limit at 3 mm while moving to 4 mm',
        );
        assert.equal(await m.getState(), 'hard-limit');
      } finally {
        await m.disconnect();
      }
    });

    it('refuses a missing device address, unknown names and an unreachable device', async () => {
      await rejectsWith(tango.TangoLinearMotor.create({} as never), OptionError, /option 'device'/);
      await rejectsWith(
        tango.TangoLinearMotor.create({ device: await prepare('motor/sim/1', 1), speed: 1 } as never),
        OptionError,
        /unknown option 'speed'/,
      );
      await rejectsWith(
        tango.TangoLinearMotor.create({ name: 'x', device: await prepare('motor/sim/1', 1), positionAttribute: 'pos' }),
        NotConnectedError,
        /x \(Tango motor\/sim\/1\): the device has no attribute 'pos'/,
      );
      await rejectsWith(
        tango.TangoLinearMotor.create({ name: 'x', device: await prepare('motor/sim/1', 1), stopCommand: 'Halt' }),
        OptionError,
        /no command 'Halt'/,
      );
      await rejectsWith(
        tango.TangoLinearMotor.create({
          name: 'y',
          device: 'tango://127.0.0.1:1/motor/sim/1#dbase=no',
          timeoutMs: 500,
        }),
        NotConnectedError,
        /y \(Tango/,
      );
    });
  });

  describe('RotationMotor', () => {
    describeRotationMotor(
      async ({ speed }) =>
        tango.TangoRotationMotor.create({
          device: await prepare('motor/sim/2', speed === 'slow' ? 20 : 1e6, { upper: 45 }),
          ...switches,
        }),
      { hardUpper: q('45 deg'), slowMoveMs: 500 },
    );
  });

  describe('ContinuousLinearMotor', () => {
    describeLinearMotor(
      async ({ speed }) =>
        tango.TangoContinuousLinearMotor.create({ device: await prepare('motor/sim/3', speed === 'slow' ? 2 : 1e4) }),
      { slowMoveMs: 500 },
    );
    describeContinuousMotor(
      async () =>
        tango.TangoContinuousLinearMotor.create({
          device: await prepare('motor/sim/3', 1e4, { upper: 20 }),
          ...switches,
        }),
      { hardUpper: q('20 mm'), velocity: q('200 mm/s') },
    );
  });

  describe('ContinuousRotationMotor', () => {
    describeContinuousMotor(
      async () =>
        tango.TangoContinuousRotationMotor.create({
          device: await prepare('motor/sim/4', 1e6, { upper: 90 }),
          ...switches,
        }),
      { hardUpper: q('90 deg'), velocity: q('900 deg/s') },
    );
  });

  it('converts a position attribute in µm (its Tango unit) to mm', async () => {
    const m = await tango.TangoLinearMotor.create({
      name: 'lin5',
      device: await prepare('motor/sim/5', 1e4),
      positionAttribute: 'position_um',
    });
    try {
      await m.setPosition(q('0.25 mm'));
      assert.equal(format(await m.getPosition()), '0.25 mm');
      assert.equal((await (await fixture.server.raw('motor/sim/5')).readAttribute('position')).value, 0.25);
      assert.equal((await (await fixture.server.raw('motor/sim/5')).readAttribute('position_um')).value, 250);
    } finally {
      await m.disconnect();
    }
  });

  it('runs a stepped tomography with the Tango rotation motor and shutter (dummy camera and flat motor)', async () => {
    const tomographyMotor = await tango.TangoRotationMotor.create({
      name: 'tomo',
      device: await prepare('motor/sim/2', 3600),
    });
    const shutter = await shutters.TangoShutter.create({ name: 'shutter', device: await fixture.server.shutter() });
    const flatMotor = await dummy.DummyLinearMotor.create({ name: 'flat', motionVelocity: q('1e6 mm/s') });
    const shots: { angle: number; shutter: string }[] = [];
    const camera = await cameras.DummyCamera.create({
      name: 'cam',
      width: 8,
      height: 4,
      frameRate: q('1000 Hz'),
      // Each frame records where the Tango motor really is and what the Tango shutter says.
      render: async (index) => {
        shots.push({ angle: (await tomographyMotor.getPosition()).toNumber('deg'), shutter: await shutter.getState() });
        return makeFrame(new Uint16Array(32).fill(index), [4, 8]);
      },
    });
    try {
      const exp = await synchrotron.SteppedTomography.create({
        walker: new DummyWalker(),
        camera,
        shutter,
        flatMotor,
        tomographyMotor,
        radioPosition: q('1 mm'),
        flatPosition: q('10 mm'),
        numDarks: 2,
        numFlats: 2,
        numProjections: 5,
        angularRange: q('180 deg'),
      });
      const acc = await Accumulator.create(exp);
      await within(15000, exp.run().done);
      assert.deepEqual(
        shots.map((s) => s.shutter),
        ['closed', 'closed', 'open', 'open', 'open', 'open', 'open', 'open', 'open'],
      );
      const angles = shots.slice(4).map((s) => s.angle);
      assert.deepEqual(
        angles.map((a) => Math.round(a * 1e6) / 1e6),
        [0, 36, 72, 108, 144],
      );
      assert.deepEqual(
        acc.getItems('radios').map((f) => f.metadata['angle']),
        [0, 36, 72, 108, 144],
      );
      assert.equal(await shutter.getState(), 'closed');
      assert.equal(await tomographyMotor.getState(), 'standby');
      assert.equal(await exp.state.get(), 'standby');
    } finally {
      for (const d of [camera, flatMotor, shutter, tomographyMotor]) await d.disconnect();
    }
  });
});
