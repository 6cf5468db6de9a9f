import assert from 'node:assert/strict';
import {
  format,
  HardLimitError,
  OptionError,
  q,
  registeredDevices,
  TransitionNotAllowed,
} from '../../../../core/index.js';
import * as dummy from '../../../../devices/motors/dummy.js';
import {
  describeContinuousMotor,
  describeLinearMotor,
  describeRotationMotor,
} from '../../../conformance/motor.case.js';
import { delay, rejectsWith } from '../../../support/async.js';

describe('devices/motors/dummy', () => {
  describe('LinearMotor', () => {
    describeLinearMotor(
      ({ speed }) =>
        dummy.DummyLinearMotor.create({
          motionVelocity: q(speed === 'slow' ? '2 mm/s' : '10000 mm/s'),
          hardUpper: q('5 mm'),
        }),
      { positions: [q('0 mm'), q('1 mm')], hardUpper: q('5 mm'), slowMoveMs: 500 },
    );

    it('takes the time the distance needs at motionVelocity', async () => {
      const m = await dummy.DummyLinearMotor.create({ name: 'flatMotor', motionVelocity: q('100 mm/s') });
      const t0 = performance.now();
      await m.setPosition(q('5 mm'));
      const ms = performance.now() - t0;
      assert.ok(ms >= 45 && ms < 200, `a 5 mm move at 100 mm/s took ${ms.toFixed(0)} ms`);
      assert.equal(format(await m.getPosition()), '5 mm');
    });

    it('starts at the given position with the given soft limits', async () => {
      const m = await dummy.DummyLinearMotor.create({
        name: 'm',
        position: q('2 mm'),
        lower: q('-1 mm'),
        upper: q('3 cm'),
      });
      assert.equal(format(await m.getPosition()), '2 mm');
      assert.equal(format(m.position.lower!), '-1 mm');
      assert.equal(format(m.position.upper!), '30 mm');
    });

    it('refuses bad options with OptionError and registers nothing', async () => {
      const n = registeredDevices().length;
      await rejectsWith(
        dummy.DummyLinearMotor.create({ position: q('1 deg') }),
        OptionError,
        /option 'position' must be a quantity in mm, got 1 deg/,
      );
      await rejectsWith(dummy.DummyLinearMotor.create({ position: 1 } as never), OptionError, /e\.g\. q\('1 mm'\)/);
      await rejectsWith(dummy.DummyLinearMotor.create({ motionVelocity: q('1 mm') }), OptionError, /motionVelocity/);
      await rejectsWith(
        dummy.DummyLinearMotor.create({ speed: q('1 mm/s') } as never),
        OptionError,
        /unknown option 'speed'.*hardLower, hardUpper, lower, motionVelocity, name, position, upper/,
      );
      await assert.rejects(
        dummy.DummyLinearMotor.create({ lower: q('5 mm'), upper: q('1 mm') }),
        /upper limit 1 mm must be above the lower limit 5 mm/,
      );
      await rejectsWith(
        dummy.DummyLinearMotor.create({ motionVelocity: q('0 mm/s') }),
        OptionError,
        "DummyLinearMotor.create: option 'motionVelocity' must be > 0, got 0 mm / s",
      );
      await rejectsWith(dummy.DummyLinearMotor.create({ motionVelocity: q('-1 mm/s') }), OptionError, /must be > 0/);
      await rejectsWith(
        dummy.DummyLinearMotor.create({ hardLower: q('1 mm'), hardUpper: q('1 mm') }),
        OptionError,
        /'hardLower' must be below 'hardUpper'/,
      );
      await rejectsWith(
        dummy.DummyRotationMotor.create({ position: q('100 deg'), hardUpper: q('90 deg') }),
        OptionError,
        "DummyRotationMotor.create: option 'position' 100 deg is outside the hard limits",
      );
      assert.equal(registeredDevices().length, n);
    });

    it('hard limits clamp in both directions', async () => {
      const m = await dummy.DummyLinearMotor.create({
        name: 'm',
        motionVelocity: q('1e5 mm/s'),
        hardLower: q('-2 mm'),
        hardUpper: q('2 mm'),
      });
      await rejectsWith(
        m.setPosition(q('-3 mm')),
        HardLimitError,
        'm.position: hit the hard limit at -2 mm while moving to -3 mm',
      );
      assert.equal(format(await m.getPosition()), '-2 mm');
      assert.equal(await m.getState(), 'hard-limit');
      await m.disable();
      await m.enable();
      await m.setPosition(q('1 mm'));
      assert.equal(await m.getState(), 'standby');
    });

    it('a stop() and a new move right after do not disturb each other', async () => {
      const m = await dummy.DummyLinearMotor.create({ name: 'm', motionVelocity: q('100 mm/s') });
      const first = m.setPosition(q('10 mm'));
      await delay(10);
      await m.stop();
      await first.catch(() => undefined);
      await m.setPosition(q('-1 mm'));
      assert.equal(format(await m.getPosition()), '-1 mm');
      await delay(120);
      assert.equal(format(await m.getPosition()), '-1 mm', 'the aborted move did not jump to its target later');
    });
  });

  describe('RotationMotor', () => {
    describeRotationMotor(
      ({ speed }) =>
        dummy.DummyRotationMotor.create({
          motionVelocity: q(speed === 'slow' ? '20 deg/s' : '1e6 deg/s'),
          hardUpper: q('45 deg'),
        }),
      {
        hardUpper: q('45 deg'),
        slowMoveMs: 500,
      },
    );
  });

  describe('ContinuousLinearMotor', () => {
    describeLinearMotor(
      ({ speed }) =>
        dummy.DummyContinuousLinearMotor.create({ motionVelocity: q(speed === 'slow' ? '2 mm/s' : '10000 mm/s') }),
      { slowMoveMs: 500 },
    );
    describeContinuousMotor(
      () => dummy.DummyContinuousLinearMotor.create({ hardUpper: q('20 mm'), motionVelocity: q('1e4 mm/s') }),
      { hardUpper: q('20 mm'), velocity: q('200 mm/s') },
    );
  });

  describe('ContinuousLinearMotor positioning and velocity', () => {
    it('refuses a velocity during a positioning move; velocity 0 does not cut the move short', async () => {
      const m = await dummy.DummyContinuousLinearMotor.create({ name: 'm', motionVelocity: q('100 mm/s') });
      const moving = m.setPosition(q('5 mm'));
      await delay(10);
      await rejectsWith(
        m.setVelocity(q('1 mm/s')),
        TransitionNotAllowed,
        'm.velocity cannot be set while the motor moves to a position (stop() it first)',
      );
      await m.setVelocity(q('0 mm/s'));
      assert.equal(await m.getState(), 'moving');
      await moving;
      assert.equal(format(await m.getPosition()), '5 mm');
      assert.equal(await m.getState(), 'standby');
    });

    it('device stash()/restore() brings position and velocity back', async () => {
      const m = await dummy.DummyContinuousLinearMotor.create({ name: 'm', motionVelocity: q('1000 mm/s') });
      await m.stash();
      await m.setPosition(q('5 mm'));
      await m.restore();
      assert.equal(format(await m.getPosition()), '0 mm');
      assert.equal((await m.getVelocity()).toNumber('mm/s'), 0);
      assert.equal(await m.getState(), 'standby');
    });
  });

  describe('ContinuousRotationMotor', () => {
    describeContinuousMotor(() => dummy.DummyContinuousRotationMotor.create({ hardUpper: q('90 deg') }), {
      hardUpper: q('90 deg'),
      velocity: q('900 deg/s'),
    });

    it('keeps rotating without a hard limit and reports its velocity', async () => {
      const m = await dummy.DummyContinuousRotationMotor.create({ name: 'tomo' });
      await m.setVelocity(q('3600 deg/s'));
      await delay(50);
      const p = (await m.getPosition()).toNumber('deg');
      assert.ok(p > 90 && p < 600, `rotated ${p} deg in ~50 ms`);
      assert.equal((await m.getVelocity()).toNumber('deg/s'), 3600);
      await m.setVelocity(q(0, 'deg/s'));
      assert.equal(await m.getState(), 'standby');
    });
  });
});
