/**
 * Conformance suite for X-ray tubes: on/off rules, power = U·I, limits and the emergency stop.
 * @module
 */
import assert from 'node:assert/strict';
import { format, q, SoftLimitError, TransitionNotAllowed, UnitError } from '../../core/index.js';
import type { XRayTube } from '../../devices/xraytubes/index.js';
import { rejectsWith } from '../support/async.js';

/** Conformance suite for X-ray tubes; `make` returns a fresh tube (on or off). */
export function describeXRayTube<T extends XRayTube>(make: () => Promise<T>): void {
  describe('XRayTube conformance', () => {
    const made: XRayTube[] = [];
    const fresh = async (): Promise<T> => {
      const t = await make();
      made.push(t);
      if ((await t.getState()) === 'on') await t.off();
      return t;
    };
    afterEach(async () => {
      for (const t of made.splice(0)) {
        await t.emergencyStop().catch(() => undefined);
        await t.disconnect();
      }
    });

    it('switches on and off; switching twice is refused', async () => {
      const t = await fresh();
      assert.equal(await t.getState(), 'off');
      await rejectsWith(t.off(), TransitionNotAllowed, /off\(\) is not allowed in state 'off'/);
      await t.on();
      assert.equal(await t.getState(), 'on');
      const e = await rejectsWith(t.on(), TransitionNotAllowed);
      assert.equal(e.state, 'on');
      await t.off();
      assert.equal(await t.getState(), 'off');
    });

    it('reports power = voltage × current', async () => {
      const t = await fresh();
      await t.setVoltage(q('50 kV'));
      await t.setCurrent(q('100 uA'));
      assert.equal(format(await t.getVoltage()), '50 kV');
      assert.equal(format(await t.getCurrent()), '100 uA');
      assert.equal(format(await t.getPower()), '5 W');
      await t.setVoltage(q('40000 V'));
      await t.setCurrent(q('0.25 mA'));
      assert.equal(format(await t.getPower()), '10 W');
      await assert.rejects(t.power.set(q('1 W')), { name: 'WriteAccessError' });
    });

    it('refuses negative or mis-united voltage and current, unchanged', async () => {
      const t = await fresh();
      await t.setVoltage(q('30 kV'));
      await rejectsWith(
        t.setVoltage(q('-1 kV')),
        SoftLimitError,
        new RegExp(`${t.name}\\.voltage: -1 kV is out of range \\[0 kV, ∞\\]`),
      );
      await rejectsWith(t.setVoltage(q('30 uA')), UnitError);
      await rejectsWith(t.setCurrent(q('-5 uA')), SoftLimitError);
      await rejectsWith(t.setCurrent(5 as never), UnitError);
      assert.equal(format(await t.getVoltage()), '30 kV');
    });

    it('emergencyStop() switches the tube off', async () => {
      const t = await fresh();
      await t.on();
      await t.emergencyStop();
      assert.equal(await t.getState(), 'off');
      await t.emergencyStop();
      assert.equal(await t.getState(), 'off');
    });
  });
}
