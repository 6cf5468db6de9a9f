/**
 * Conformance suite for shutters: open/closed rules and the emergency stop.
 * @module
 */
import assert from 'node:assert/strict';
import { TransitionNotAllowed } from '../../core/index.js';
import type { Shutter } from '../../devices/shutters/index.js';
import { rejectsWith } from '../support/async.js';
import { captureLog } from '../support/log.js';

/** Conformance suite for shutters; `make` returns a fresh shutter, open or closed. */
export function describeShutter<S extends Shutter>(make: () => Promise<S>): void {
  describe('Shutter conformance', () => {
    const made: Shutter[] = [];
    const fresh = async (): Promise<S> => {
      const s = await make();
      made.push(s);
      if ((await s.getState()) === 'closed') await s.open();
      return s;
    };
    afterEach(async () => {
      for (const s of made.splice(0)) await s.disconnect();
    });

    it('opens and closes: open → close → open', async () => {
      const s = await fresh();
      assert.equal(await s.getState(), 'open');
      await s.close();
      assert.equal(await s.getState(), 'closed');
      await s.open();
      assert.equal(await s.getState(), 'open');
    });

    it('refuses closing a closed shutter and opening an open one (TransitionNotAllowed)', async () => {
      const s = await fresh();
      const e1 = await rejectsWith(
        s.open(),
        TransitionNotAllowed,
        new RegExp(`^${s.name}\\.open\\(\\) is not allowed in state 'open' \\(allowed in: closed\\)$`),
      );
      assert.equal(e1.state, 'open');
      await s.close();
      const e2 = await rejectsWith(s.close(), TransitionNotAllowed, /close\(\) is not allowed in state 'closed'/);
      assert.equal(e2.state, 'closed');
      assert.equal(await s.getState(), 'closed');
    });

    it('emergencyStop() closes an open shutter and leaves a closed one closed', async () => {
      const s = await fresh();
      const lines = await captureLog(() => s.emergencyStop());
      assert.equal(await s.getState(), 'closed');
      assert.ok(lines.some((l) => l.level === 'warn' && l.message === 'emergency stop'));
      await s.emergencyStop();
      assert.equal(await s.getState(), 'closed');
    });

    it('cannot be assigned a state directly', async () => {
      const s = await fresh();
      await assert.rejects(s.state.set('closed'), {
        name: 'WriteAccessError',
      });
      assert.equal(await s.getState(), 'open');
    });
  });
}
