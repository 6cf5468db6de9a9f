import assert from 'node:assert/strict';
import { OptionError, q } from '../../../../core/index.js';
import * as dummy from '../../../../devices/shutters/dummy.js';
import { describeShutter } from '../../../conformance/shutter.case.js';
import { rejectsWith } from '../../../support/async.js';

describe('devices/shutters/dummy', () => {
  describeShutter(() => dummy.DummyShutter.create());

  it('is open at start, like Concert’s dummy', async () => {
    const s = await dummy.DummyShutter.create({ name: 'shutter' });
    assert.equal(await s.getState(), 'open');
  });

  it('takes motionTime to move; an aborted move keeps the old state so it can be retried', async () => {
    const s = await dummy.DummyShutter.create({ name: 'slowShutter', motionTime: q('150 ms') });
    const t0 = performance.now();
    await s.close();
    assert.ok(performance.now() - t0 >= 145);
    assert.equal(await s.getState(), 'closed');
    const c = new AbortController();
    const opening = s.open({ signal: c.signal });
    setTimeout(() => c.abort(), 10);
    await assert.rejects(opening, { name: 'AbortError' });
    assert.equal(await s.getState(), 'closed');
    await s.open();
    // An interrupted close must not claim 'closed': close() and the emergency stop still work.
    const c2 = new AbortController();
    const closing = s.close({ signal: c2.signal });
    setTimeout(() => c2.abort(), 10);
    await assert.rejects(closing, { name: 'AbortError' });
    assert.equal(await s.getState(), 'open');
    await s.emergencyStop();
    assert.equal(await s.getState(), 'closed');
  });

  it('refuses bad options', async () => {
    await rejectsWith(dummy.DummyShutter.create({ motionTime: q('5 mm') }), OptionError, /motionTime/);
    await rejectsWith(dummy.DummyShutter.create({ delay: 1 } as never), OptionError, /unknown option 'delay'/);
  });
});
