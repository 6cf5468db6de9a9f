import assert from 'node:assert/strict';
import { OptionError, q, unregisterDevice } from '../../../core/index.js';
import { DummyLinearMotor } from '../../../devices/motors/dummy.js';
import { checkEmergencyStop } from '../../../session/helpers.js';
import { delay, within } from '../../support/async.js';

describe('session/checkEmergencyStop', () => {
  it('aborts a running move when the condition trips, and trips again only after it was false', async () => {
    const motor = await DummyLinearMotor.create({ name: 'estopMotor', motionVelocity: q('1 mm/s') });
    let open = false;
    const stopped: number[] = [];
    const watch = checkEmergencyStop(() => open, { interval: 10, onTrip: (n) => stopped.push(n) });
    try {
      const move = motor.setPosition(q('1000 mm'));
      await delay(50);
      open = true;
      await assert.rejects(within(2000, move, 'the aborted move'));
      assert.ok((await motor.getPosition()).toNumber('mm') < 1, 'the motor stopped where it was');
      await delay(60);
      assert.equal(watch.trips, 1, 'a condition that stays true trips once');
      assert.ok(stopped[0]! >= 1, `aborted ${stopped[0]} operation(s)`);
      open = false;
      await delay(40);
      open = true;
      await delay(60);
      assert.equal(watch.trips, 2);
    } finally {
      watch.stop();
      unregisterDevice(motor);
    }
  });

  it('never runs a slow check twice at once, and stops polling when stopped', async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    const watch = checkEmergencyStop(
      async () => {
        calls++;
        most = Math.max(most, ++running);
        await delay(30);
        running--;
        return false;
      },
      { interval: 1 },
    );
    await delay(150);
    watch.stop();
    const after = calls;
    await delay(80);
    assert.equal(most, 1);
    assert.ok(after >= 2, `checked ${after} times`);
    assert.ok(calls <= after + 1, 'no checks after stop()');
  });

  it('refuses bad periods, unknown options and a condition that is not a function', () => {
    assert.throws(() => checkEmergencyStop(() => false, { interval: 0 }), OptionError);
    assert.throws(() => checkEmergencyStop(() => false, { interval: Number.NaN }), /option 'interval' must be/);
    assert.throws(
      () => checkEmergencyStop(() => false, { intervall: 10 } as never),
      /unknown option 'intervall', did you mean 'interval'\?/,
    );
    assert.throws(() => checkEmergencyStop(true as never), /the condition must be a function/);
    // A period past setTimeout's 24.8-day limit is taken as it is, not as 1 ms.
    const watch = checkEmergencyStop(() => assert.fail('checked too early'), { interval: 2 ** 32 });
    watch.stop();
  });
});
