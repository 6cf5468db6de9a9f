import assert from 'node:assert/strict';
import { format, q, sleep, TransitionNotAllowed } from '../../../../core/index.js';
import { ContinuousRotationMotor, LinearMotor, type MotorMotion } from '../../../../devices/motors/index.js';
import { SimulatedMotion } from '../../../../devices/motors/dummy.js';
import { describeContinuousMotor, describeLinearMotor } from '../../../conformance/motor.case.js';
import { delay, rejectsWith } from '../../../support/async.js';

/** A motion part whose hardware reports its state (always standby: it never says MOVING in time). */
class SlowHardwareMotion implements MotorMotion {
  position = 0;
  moves = 0;
  async readState(): Promise<'standby'> {
    return 'standby';
  }
  async readPosition(): Promise<number> {
    return this.position;
  }
  async moveTo(target: number, signal: AbortSignal): Promise<void> {
    this.moves++;
    await sleep(100, signal);
    this.position = target;
  }
  async stop(): Promise<void> {}
}

describe('devices/motors/base', () => {
  describe('LinearMotor composed with a motion part', () => {
    describeLinearMotor(
      ({ speed }) =>
        LinearMotor.create(
          {},
          new SimulatedMotion(
            { motionVelocity: q(speed === 'slow' ? '2 mm/s' : '1e4 mm/s'), hardUpper: q('5 mm') },
            100,
          ),
        ),
      { hardUpper: q('5 mm'), slowMoveMs: 500 },
    );
  });

  describe('ContinuousRotationMotor composed with a motion part', () => {
    describeContinuousMotor(
      () => ContinuousRotationMotor.create({}, new SimulatedMotion({ hardUpper: q('90 deg') }, 1e6)),
      { hardUpper: q('90 deg'), velocity: q('200 deg/s') },
    );
  });

  it('refuses a second move at once when the hardware state does not say moving yet', async () => {
    const motion = new SlowHardwareMotion();
    const m = await LinearMotor.create({ name: 'hw' }, motion);
    const first = m.setPosition(q('1 mm'));
    await delay(10);
    await rejectsWith(
      m.setPosition(q('2 mm')),
      TransitionNotAllowed,
      "hw.moveTo() is not allowed in state 'moving' (allowed in: standby, hard-limit)",
    );
    await rejectsWith(m.home(), TransitionNotAllowed, /hw\.home\(\) is not allowed in state 'moving'/);
    await first;
    assert.equal(motion.moves, 1);
    assert.equal(format(await m.getPosition()), '1 mm');
    await m.home();
    assert.equal(format(await m.getPosition()), '0 mm', 'home() without a home hook moves to 0');
  });

  it('holds the motion part it was given, bound to the motor position unit', async () => {
    const motion = new SimulatedMotion({ position: q('3 deg') }, 360);
    const m = await ContinuousRotationMotor.create({ name: 'rot' }, motion);
    assert.equal(m.motion, motion);
    assert.equal(format(await m.getPosition()), '3 deg');
    assert.equal(motion.position(), 3);
  });
});
